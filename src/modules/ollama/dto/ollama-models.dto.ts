import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { HostInput } from '../../../common/host-input.dto.js';
import { OptionalInt } from '../../../common/optional-int.js';
import type { OllamaParameterValue } from '../../../infra/ollama/ollama-wire-types.js';
import { MODELFILE_MESSAGE_ROLES } from '../modelfile.js';
import { MAX_TEXT, ModelName } from './ollama-fields.js';

/*
 * The model operations: ollama_version, ollama_list_models, ollama_show_model, ollama_running_models,
 * ollama_copy_model, ollama_delete_model and ollama_unload_model.
 */

/** Largest ollama_show_model answer one can ask for: more than any Modelfile this server accepts. */
const MAX_SHOW_BYTES = 4 * 1024 * 1024;

/** One parameter value: a number, a boolean, or (stop) a string or list of strings. */
const PARAMETER_VALUE_SCHEMA = {
  anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'string' }, { type: 'array', items: { type: 'string' } }],
};

/** One turn of a conversation: shown by ollama_show_model, taken by ollama_create_model. */
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
  @OptionalInt(1, 100_000)
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
  @OptionalInt(1024, MAX_SHOW_BYTES)
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
