/**
 * How much VRAM a model needs at a context length, from its GGUF metadata: pure arithmetic, no I/O
 * (model-fit.ts turns it into a verdict against the host's GPUs).
 *
 * The estimate follows the terms of Ollama's own memory estimate (its llm/memory.go and fs/ggml GraphSize):
 * - weights: the model's size on disk (GGUF blobs are loaded as they are);
 * - KV cache: context × layers × (key + value head size) × KV heads × 2 bytes (f16, Ollama's default; a host
 *   with OLLAMA_KV_CACHE_TYPE=q8_0 or q4_0 needs a half or a quarter of it, which this server cannot see);
 * - overhead per GPU used: the compute graph Ollama reserves for a fully offloaded llama-style model
 *   (without flash attention, which makes it smaller) plus the 457 MiB Ollama keeps free on every CUDA GPU.
 */
import { badRequest } from '../../common/errors.js';

export const MIB = 1024 * 1024;
/** Ollama leaves this much of every CUDA (and ROCm) GPU unallocated. */
export const GPU_MINIMUM_MIB = 457;
/** Ollama's default batch (num_batch); the compute graph scales with it. */
const BATCH = 512;
/** f16 KV cache. */
const KV_BYTES_PER_ELEMENT = 2;
/** Gemma 3 keeps a full-context cache in every 6th layer and a sliding-window cache in the others. */
const GEMMA3_GLOBAL_LAYER_EVERY = 6;

/** Ollama's default context when neither the request nor the model sets num_ctx, by the GPUs' total VRAM. */
export function defaultContextLength(totalVramMib: number): number {
  if (totalVramMib < 24 * 1024) return 4096;
  if (totalVramMib < 48 * 1024) return 32768;
  return 262144;
}

/** The dimensions of a model the estimate needs, read from `/api/show`'s model_info (GGUF metadata). */
export interface ModelShape {
  architecture: string;
  blockCount: number;
  embeddingLength: number | null;
  headCount: number | null;
  /** KV heads per layer (GQA models have fewer than attention heads). */
  headCountKv: number[];
  keyLength: number;
  valueLength: number;
  vocabSize: number | null;
  /** The context the model was trained for; Ollama caps num_ctx at it. */
  trainedContext: number | null;
  slidingWindow: number | null;
}

/** A positive integer within a sane bound, else null: model_info comes from the network. */
function positiveInt(value: unknown, max = 1 << 30): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max ? value : null;
}

/** A number, or a per-layer list of numbers (non-verbose show replaces lists longer than 5 with []). */
function perLayer(value: unknown, layers: number): number[] | null {
  const one = positiveInt(value, 1 << 20);
  if (one !== null) return Array.from({ length: layers }, () => one);
  if (!Array.isArray(value) || value.length === 0) return null;
  const list = value.map((v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1 << 20 ? v : null));
  if (list.includes(null)) return null;
  const last = list[list.length - 1] as number;
  return Array.from({ length: layers }, (_, i) => (i < list.length ? (list[i] as number) : last));
}

/**
 * Reads the model's dimensions. Missing head counts fall back the way llama.cpp does (KV heads = attention
 * heads, head size = embedding / heads); a model whose metadata lacks the layer count or the head size
 * (safetensors imports, cloud stubs) cannot be estimated, which is a 400 naming the missing key.
 */
export function readModelShape(model: string, info: Record<string, unknown>): ModelShape {
  const arch = info['general.architecture'];
  const unsupported = (key: string) =>
    badRequest(
      `Ollama reports no ${key} for '${model}', so its memory cannot be estimated; ollama_model_fit needs a GGUF model ` +
        '(check ollama_show_model: model_info lists the GGUF metadata).',
    );
  if (typeof arch !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(arch)) throw unsupported('general.architecture');
  const key = (name: string) => info[`${arch}.${name}`];
  const blockCount = positiveInt(key('block_count'), 100_000);
  if (blockCount === null) throw unsupported(`${arch}.block_count`);
  const embeddingLength = positiveInt(key('embedding_length'));
  const headCount = positiveInt(key('attention.head_count'), 1 << 20) ?? perLayer(key('attention.head_count'), blockCount)?.[0] ?? null;
  const headCountKv =
    perLayer(key('attention.head_count_kv'), blockCount) ??
    (headCount !== null ? Array.from({ length: blockCount }, () => headCount) : null);
  if (headCountKv === null) throw unsupported(`${arch}.attention.head_count_kv`);
  const derivedHead = embeddingLength !== null && headCount !== null ? Math.floor(embeddingLength / headCount) : null;
  const keyLength = positiveInt(key('attention.key_length'), 1 << 20) ?? derivedHead;
  const valueLength = positiveInt(key('attention.value_length'), 1 << 20) ?? derivedHead;
  if (keyLength === null || valueLength === null) throw unsupported(`${arch}.attention.key_length`);
  const tokens = info['tokenizer.ggml.tokens'];
  return {
    architecture: arch,
    blockCount,
    embeddingLength,
    headCount,
    headCountKv,
    keyLength,
    valueLength,
    vocabSize: positiveInt(key('vocab_size')) ?? (Array.isArray(tokens) && tokens.length > 0 ? tokens.length : null),
    trainedContext: positiveInt(key('context_length')),
    slidingWindow: positiveInt(key('attention.sliding_window')),
  };
}

/** KV cache in bytes at `context` tokens (f16). */
export function kvCacheBytes(shape: ModelShape, context: number): number {
  let total = 0;
  for (let layer = 0; layer < shape.blockCount; layer++) {
    const heads = shape.headCountKv[layer] as number;
    // Layers without KV heads are recurrent (no per-token cache); their small state is left out.
    if (heads === 0) continue;
    let tokens = context;
    if (shape.architecture === 'gemma3' && shape.slidingWindow !== null && (layer + 1) % GEMMA3_GLOBAL_LAYER_EVERY !== 0) {
      tokens = Math.min(context, shape.slidingWindow + BATCH);
    }
    total += tokens * (shape.keyLength + shape.valueLength) * heads * KV_BYTES_PER_ELEMENT;
  }
  return total;
}

/**
 * Compute graph in bytes: Ollama's full-offload estimate for llama-style models, the larger of the attention
 * scores (batch × context × heads, f32) and the output logits (batch × vocabulary). Without the dimensions,
 * Ollama's own fallback: a sixth of the KV cache times the GQA ratio.
 */
export function graphBytes(shape: ModelShape, context: number, kvBytes: number): number {
  const batch = Math.min(context, BATCH);
  const { embeddingLength: embd, headCount: heads } = shape;
  if (embd === null || heads === null) {
    const kvHeads = Math.max(1, ...shape.headCountKv);
    return Math.round(((heads ?? kvHeads) / kvHeads) * (kvBytes / 6));
  }
  const attention = 4 * batch * (1 + 4 * embd + context * (1 + heads));
  const logits = shape.vocabSize === null ? 0 : 4 * batch * (embd + shape.vocabSize);
  return Math.max(attention, logits);
}
