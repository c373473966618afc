import { HostInput } from '../../../common/host-input.dto.js';
import { OptionalInt } from '../../../common/optional-int.js';
import { ModelName } from './ollama-fields.js';

/** Longest context accepted (16M tokens; the largest models take 10M). */
const MAX_CONTEXT_LENGTH = 16 * 1024 * 1024;

export class OllamaModelFitInput extends HostInput {
  /** e.g. "llama3.2". */
  @ModelName()
  model: string;

  /** Tokens; default: the model's num_ctx or Ollama's default. */
  @OptionalInt(1, MAX_CONTEXT_LENGTH)
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
