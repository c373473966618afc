import { applyDecorators } from '@nestjs/common';
import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsObject,
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { HostInput } from '../../../common/host-input.dto.js';
import type { OllamaParameterValue } from '../../../infra/ollama/ollama-wire-types.js';
import { MODEL_NAME_MAX_LENGTH, MODEL_NAME_REGEX, MODEL_NAME_RULE } from '../../../infra/ollama/model-name.js';
import { IsAdapterMap, IsModelParameters } from '../create-validators.js';
import { MODELFILE_MESSAGE_ROLES } from '../modelfile.js';

/** Longest wait a call may ask for: below the ~300 s after which Open WebUI's MCP client gives up. */
export const MAX_WAIT_SECONDS = 240;
/** Default wait of ollama_pull_model and ollama_create_model. */
export const DEFAULT_START_WAIT_SECONDS = 20;
/** Default wait of ollama_job_status: answer at once, so "how far along is it?" is quick. */
export const DEFAULT_STATUS_WAIT_SECONDS = 0;

const MAX_TEXT = 256 * 1024;
/** Largest ollama_show_model answer one can ask for: more than any Modelfile this server accepts. */
const MAX_SHOW_BYTES = 4 * 1024 * 1024;
const MAX_MODELFILE = 1024 * 1024;
/**
 * A field holding an Ollama model name, checked by Ollama's rule. The rule stays out of the schema (it
 * costs a model ~100 tokens per field; a wrong name gets a 400 that states it).
 */
function ModelName(options: { optional?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ...(options.optional ? [ApiPropertyOptional(), IsOptional()] : [ApiProperty()]),
    IsString(),
    MaxLength(MODEL_NAME_MAX_LENGTH),
    Matches(MODEL_NAME_REGEX, { message: `$property must be ${MODEL_NAME_RULE}` }),
  );
}

/** One parameter value: a number, a boolean, or (stop) a string or list of strings. */
const PARAMETER_VALUE_SCHEMA = {
  anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'string' }, { type: 'array', items: { type: 'string' } }],
};

// ---------------------------------------------------------------------------------------------------------
// Shared

export class OllamaModelDetails {
  /** Model this one was derived from, usually empty. */
  parent_model?: string;
  /** File format: gguf, or safetensors for MLX models. */
  format?: string;
  /** Model family, e.g. "llama"; empty for some safetensors models. */
  family?: string;
  /** Families of the model's parts; often null. */
  families?: string[] | null;
  /** Parameter count as Ollama writes it, e.g. "3.2B". */
  parameter_size?: string;
  /** Quantization, e.g. "Q4_K_M". */
  quantization_level?: string;
  /** Context window in tokens (newer Ollama only). */
  context_length?: number;
  /** Embedding size (newer Ollama only). */
  embedding_length?: number;
}

export class OllamaMessage {
  /** Who speaks: system, user, assistant or tool. */
  @IsString()
  @IsIn(MODELFILE_MESSAGE_ROLES)
  role: string;

  /** What is said. */
  @IsString()
  @MaxLength(MAX_TEXT)
  content: string;
}

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
// ollama_version

export class OllamaVersionInput extends HostInput {}

export class OllamaVersionResult {
  /** Configured host name. */
  host: string;
  /** Ollama's version, e.g. "0.12.6". */
  version: string;
  /** Ollama API base URL this server uses for the host. */
  url: string;
}

// ---------------------------------------------------------------------------------------------------------
// ollama_list_models

export class OllamaListModelsInput extends HostInput {
  /** Default: as many as fit. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  max_models?: number;
}

export class OllamaModelSummary {
  /** Model name to use in other calls, e.g. "llama3.2:latest". */
  name: string;
  /** Size on disk in bytes. */
  size_bytes: number;
  /** Size on disk in GB (10^9 bytes), two decimals. */
  size_gb: number;
  /** When the model was last pulled or created (Ollama's timestamp). */
  modified_at: string;
  /** Model family, e.g. "llama"; null when Ollama reports none. */
  family: string | null;
  /** Parameter count, e.g. "3.2B"; null when unknown. */
  parameter_size: string | null;
  /** Quantization, e.g. "Q4_K_M"; null when unknown. */
  quantization_level: string | null;
  /** File format: gguf or safetensors. */
  format: string | null;
  /** Manifest digest (hex). */
  digest: string;
  /** What the model can do, e.g. ["completion", "tools", "vision"] (newer Ollama only). */
  capabilities?: string[];
  /** For cloud models: where they run (they take no local disk or VRAM). */
  remote_host?: string;
}

export class OllamaListModelsResult {
  /** Configured host name. */
  host: string;
  /** Local models, most recently modified first: by default as many as fit in the host's answer size. */
  models: OllamaModelSummary[];
  /** When models were left out: how many, and how to list them. */
  note?: string;
}

// ---------------------------------------------------------------------------------------------------------
// ollama_show_model

export class OllamaShowModelInput extends HostInput {
  /** Model name, e.g. "llama3.2". */
  @ModelName()
  model: string;

  /** Answer size limit (default 12 KiB). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(MAX_SHOW_BYTES)
  max_bytes?: number;
}

export class OllamaShowModelResult {
  /** Configured host name. */
  host: string;
  /** The model shown. */
  model: string;
  /** The model's Modelfile as `ollama show --modelfile` prints it (including its LICENSE lines); edit it and pass it to ollama_create_model to change the model. */
  modelfile: string;
  /** Parameters from the Modelfile as an object with typed values, e.g. {"temperature": 0.7, "stop": ["<|eot_id|>"]}; list parameters (stop) are always arrays. */
  @ApiProperty({ type: 'object', additionalProperties: PARAMETER_VALUE_SCHEMA })
  parameters: Record<string, OllamaParameterValue>;
  /** Prompt template (Go template syntax); null when the model has none or it was left out (see note). */
  template: string | null;
  /** System prompt; null when the model has none. */
  system: string | null;
  /** Format, family, parameter size and quantization. */
  details: OllamaModelDetails;
  /** What the model can do, e.g. ["completion", "tools"]. */
  capabilities: string[];
  /** Example conversation stored in the model (MESSAGE lines), when it has one. */
  messages?: OllamaMessage[];
  /** Model metadata from the GGUF file (architecture, parameter count, context length, ...); long arrays are left empty. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  model_info: Record<string, unknown>;
  /** When the model was last modified (Ollama's timestamp), when Ollama reports it. */
  modified_at?: string;
  /** When license or template texts were left out to keep the answer small: which, and how to get them. */
  note?: string;
}

// ---------------------------------------------------------------------------------------------------------
// ollama_running_models

export class OllamaRunningModelsInput extends HostInput {}

export class OllamaRunningModel {
  /** Model name. */
  name: string;
  /** Memory the loaded model takes (VRAM plus RAM) in bytes. */
  size_bytes: number;
  /** Same in GB (10^9 bytes). */
  size_gb: number;
  /** Part of it held in GPU memory, bytes; 0 means the model runs on the CPU only. */
  size_vram_bytes: number;
  /** Same in GB (10^9 bytes). */
  size_vram_gb: number;
  /** Share of the model in GPU memory in percent (100 = fully on the GPU), like `ollama ps`. */
  gpu_percent: number;
  /** When Ollama will unload it if unused (ISO 8601 with offset; far future for keep_alive -1). */
  expires_at: string;
  /** Context window it was loaded with, in tokens; null on older Ollama. */
  context_length: number | null;
  /** Model family. */
  family: string | null;
  /** Parameter count, e.g. "3.2B". */
  parameter_size: string | null;
  /** Quantization, e.g. "Q4_K_M". */
  quantization_level: string | null;
  /** Manifest digest (hex). */
  digest: string;
}

export class OllamaRunningModelsResult {
  /** Configured host name. */
  host: string;
  /** Models loaded in memory now; empty when none is. */
  models: OllamaRunningModel[];
}

// ---------------------------------------------------------------------------------------------------------
// ollama_pull_model

export class OllamaPullModelInput extends HostInput {
  /** e.g. "gemma:2b" or "hf.co/user/repo:Q4_K_M". */
  @ModelName()
  model: string;

  /** Seconds to wait before answering (0-240, default 20); the pull goes on. */
  @ApiPropertyOptional({ type: 'integer' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_WAIT_SECONDS)
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
  @ApiPropertyOptional({ type: 'integer' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_WAIT_SECONDS)
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
  @ApiPropertyOptional({ type: 'integer' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_WAIT_SECONDS)
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

// ---------------------------------------------------------------------------------------------------------
// copy, delete, unload

export class OllamaCopyModelInput extends HostInput {
  /** Model to copy. */
  @ModelName()
  source: string;

  /** New name; replaced if it exists. */
  @ModelName()
  destination: string;
}

export class OllamaCopyModelResult {
  /** Configured host name. */
  host: string;
  /** The model copied. */
  source: string;
  /** The new name. */
  destination: string;
}

export class OllamaDeleteModelInput extends HostInput {
  /** Model to delete. */
  @ModelName()
  model: string;
}

export class OllamaUnloadModelInput extends HostInput {
  /** Loaded model, e.g. "llama3.2". */
  @ModelName()
  model: string;
}

export class OllamaModelResult {
  /** Configured host name. */
  host: string;
  /** The model acted on. */
  model: string;
}

// ---------------------------------------------------------------------------------------------------------
// ollama_model_fit

/** Longest context accepted (16M tokens; the largest models take 10M). */
const MAX_CONTEXT_LENGTH = 16 * 1024 * 1024;

export class OllamaModelFitInput extends HostInput {
  /** e.g. "llama3.2". */
  @ModelName()
  model: string;

  /** Tokens; default: the model's num_ctx or Ollama's default. */
  @ApiPropertyOptional({ type: 'integer' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_CONTEXT_LENGTH)
  context_length?: number;
}

export class OllamaVramEstimate {
  /** Model weights (its size on disk), MiB. */
  weights: number;
  /** KV cache at the context length (f16), MiB. */
  kv_cache: number;
  /** Compute graph plus Ollama's reserve per GPU used, MiB. */
  overhead: number;
  /** Sum, MiB. */
  total: number;
}

export class OllamaModelFitResult {
  /** Configured host name. */
  host: string;
  /** The model checked. */
  model: string;
  /** Context length estimated for, in tokens. */
  context_length: number;
  /** Estimated VRAM need. */
  estimated_vram_mb: OllamaVramEstimate;
  /** Free VRAM of all GPUs now, MiB. */
  free_vram_mb: number;
  /** Free VRAM if every loaded model were unloaded, MiB. */
  free_after_unload_mb: number;
  /** Loaded models to unload first (ollama_unload_model). */
  unload: string[];
  /** fits, fits_after_unload, partial_offload or does_not_fit. */
  verdict: 'fits' | 'fits_after_unload' | 'partial_offload' | 'does_not_fit';
  /** Share of layers that would run on the CPU, percent. */
  offload_percent: number;
  /** The numbers in one sentence. */
  explanation: string;
}
