import { ApiHideProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested } from 'class-validator';
import { HostInput } from '../../../common/host-input.dto.js';
import type { OllamaParameterValue } from '../../../infra/ollama/ollama-wire-types.js';
import { IsAdapterMap, IsModelParameters } from '../create-validators.js';
import { MAX_TEXT, ModelName, WaitSeconds } from './ollama-fields.js';
import { OllamaMessage } from './ollama-models.dto.js';

/*
 * The job operations: ollama_pull_model and ollama_create_model start a job, ollama_job_status,
 * ollama_list_jobs and ollama_cancel_job follow and stop it; all of them answer with OllamaJob.
 */

const MAX_MODELFILE = 1024 * 1024;

export class OllamaJob {
  /** Job id to pass to ollama_job_status and ollama_cancel_job. */
  job_id: string;
  /** What the job does: pull or create. */
  kind: 'pull' | 'create';
  /** Host the job runs on. */
  host: string;
  /** Model being pulled or created. */
  model: string;
  /** running, succeeded, failed or cancelled. */
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** Ollama's latest status line, e.g. "pulling manifest", "pulling c1864a5eb193", "verifying sha256 digest", "success". */
  status: string;
  /** Bytes done, summed over all layers seen so far. */
  completed_bytes: number;
  /** Bytes to do, summed over all layers seen so far (layers appear one by one, so this can grow). */
  total_bytes: number;
  /** completed_bytes / total_bytes in percent with one decimal; 100 when succeeded; null while no size is known. */
  percent: number | null;
  /** Why the job failed (Ollama's own words included); null unless state is failed. */
  error: string | null;
  /** When the job started (ISO 8601). */
  started_at: string;
  /** When the job ended (ISO 8601); null while running. */
  finished_at: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// ollama_pull_model

export class OllamaPullModelInput extends HostInput {
  /** e.g. "gemma:2b" or "hf.co/user/repo:Q4_K_M". */
  @ModelName()
  model: string;

  /** Seconds to wait before answering (0-240, default 20); the pull goes on. */
  @WaitSeconds()
  wait_seconds?: number;
}

// ---------------------------------------------------------------------------------------------------------
// ollama_create_model

export class OllamaCreateModelInput extends HostInput {
  /** Model to create or replace. */
  @ModelName()
  model: string;

  /** Modelfile text, e.g. ollama_show_model's with a line changed; or use from, system and parameters. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_MODELFILE)
  modelfile?: string;

  /** Base model. */
  @ModelName({ optional: true })
  from?: string;

  /** System prompt. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TEXT)
  system?: string;

  // template, messages, license and adapters are accepted but not advertised: the Modelfile's TEMPLATE,
  // MESSAGE, LICENSE and ADAPTER lines say the same, and every advertised field costs tokens in every chat.
  /** Template. */
  @ApiHideProperty()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TEXT)
  template?: string;

  /** e.g. {"temperature": 0.6} */
  @IsOptional()
  @IsModelParameters()
  @ApiPropertyOptional({ type: Object })
  parameters?: Record<string, OllamaParameterValue>;

  /** [{role, content}] */
  @ApiHideProperty()
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsObject({ each: true }) // ValidateNested alone lets an array stand in for an item
  @ValidateNested({ each: true })
  @Type(() => OllamaMessage)
  messages?: OllamaMessage[];

  /** License text. */
  @ApiHideProperty()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TEXT)
  license?: string;

  /** {file name: blob digest} */
  @ApiHideProperty()
  @IsOptional()
  @IsAdapterMap()
  adapters?: Record<string, string>;

  /** Quantization, e.g. "q4_K_M". */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_]{1,32}$/, { message: 'quantize must be a quantization name such as q4_K_M, q4_K_S or q8_0' })
  quantize?: string;

  /** Seconds to wait (0-240, default 20). */
  @WaitSeconds()
  wait_seconds?: number;
}

// ---------------------------------------------------------------------------------------------------------
// jobs

export class OllamaJobParams {
  /** From ollama_pull_model. */
  @IsUUID()
  job_id: string;
}

export class OllamaJobStatusInput extends HostInput {
  /** Wait up to this long for the end (default 0). */
  @WaitSeconds({ query: true })
  wait_seconds?: number;
}

export class OllamaListJobsInput extends HostInput {}

export class OllamaListJobsResult {
  /** Running and recently finished pull and create jobs, newest first (finished jobs are kept for 60 minutes, at most 100); by default as many as fit in the host's answer size. */
  jobs: OllamaJob[];
  /** When older jobs were left out: how many, and how to see one. */
  note?: string;
}

export class OllamaCancelJobInput extends HostInput {}
