/**
 * ollama_model_fit: the pure estimate of the VRAM a model needs at a context length, and the verdict against
 * the free memory of the host's GPUs. No I/O here; the service gathers the inputs (/api/tags, /api/show,
 * /api/ps, gpu_status).
 *
 * The estimate follows the terms of Ollama's own memory estimate (its llm/memory.go and fs/ggml GraphSize):
 * - weights: the model's size on disk (GGUF blobs are loaded as they are);
 * - KV cache: context × layers × (key + value head size) × KV heads × 2 bytes (f16, Ollama's default; a host
 *   with OLLAMA_KV_CACHE_TYPE=q8_0 or q4_0 needs a half or a quarter of it, which this server cannot see);
 * - overhead per GPU used: the compute graph Ollama reserves for a fully offloaded llama-style model
 *   (without flash attention, which makes it smaller) plus the 457 MiB Ollama keeps free on every CUDA GPU.
 */
import { badRequest } from '../../common/errors.js';
import type { OllamaModelFitResult, OllamaVramEstimate } from './dto/ollama-model-fit.dto.js';

const MIB = 1024 * 1024;
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

/** One GPU as gpu_status reports it. */
export interface FitGpu {
  index: number;
  name: string;
  memory_total_mb: number | null;
  memory_used_mb: number | null;
  memory_free_mb: number | null;
}

/** One loaded model as /api/ps reports it. */
export interface FitLoadedModel {
  name: string;
  size_vram_bytes: number;
  /** The model being checked: its own VRAM is free for it (Ollama reloads it, or it is already there). */
  is_target: boolean;
}

export interface FitInput {
  model: string;
  size_bytes: number;
  model_info: Record<string, unknown>;
  /** The model's num_ctx parameter, when its Modelfile sets one. */
  num_ctx?: number;
  /** What the caller asked for. */
  context_length?: number;
  gpus: FitGpu[];
  loaded: FitLoadedModel[];
}

export type FitAssessment = Omit<OllamaModelFitResult, 'host'>;

const toMib = (bytes: number) => Math.ceil(bytes / MIB);

/** Free MiB of a GPU: nvidia-smi's memory.free, or total minus used when only those are known. */
function freeMib(gpu: FitGpu): number {
  if (gpu.memory_free_mb !== null) return Math.max(0, gpu.memory_free_mb);
  if (gpu.memory_total_mb !== null && gpu.memory_used_mb !== null) return Math.max(0, gpu.memory_total_mb - gpu.memory_used_mb);
  return 0;
}

/**
 * Spreads VRAM that unloading frees over the GPUs in proportion to what each has in use (/api/ps does not say
 * which GPU holds a model), never past a GPU's total.
 */
function addFreed(gpus: FitGpu[], free: number[], freedMib: number): number[] {
  if (free.length === 1) return [free[0] + freedMib];
  const used = gpus.map((g, i) => (g.memory_total_mb !== null ? Math.max(0, g.memory_total_mb - free[i]) : 0));
  const usedSum = used.reduce((a, b) => a + b, 0);
  return free.map((f, i) => {
    const share = usedSum > 0 ? (freedMib * used[i]) / usedSum : freedMib / free.length;
    const cap = gpus[i].memory_total_mb ?? Number.POSITIVE_INFINITY;
    return Math.min(cap, f + share);
  });
}

/**
 * How many GPUs a full load needs: one whose free memory holds everything, or the fewest best ones whose free
 * memory together holds the weights and KV cache plus one overhead each. 0 when no split holds it.
 */
function gpusForFullLoad(free: number[], bodyMib: number, overheadMib: number): number {
  const sorted = [...free].sort((a, b) => b - a);
  let sum = 0;
  for (let k = 1; k <= sorted.length; k++) {
    sum += sorted[k - 1];
    if (sorted[k - 1] <= overheadMib) return 0;
    if (sum >= bodyMib + k * overheadMib) return k;
  }
  return 0;
}

const fmt = (mib: number) => (mib >= 10240 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib} MiB`);

function describeGpus(gpus: FitGpu[], free: number[]): string {
  if (gpus.length === 1) return `GPU ${gpus[0].index} (${gpus[0].name}) has ${fmt(free[0])} free`;
  const each = gpus.map((g, i) => `${g.index}: ${fmt(free[i])}`).join(', ');
  return `the ${gpus.length} GPUs have ${fmt(free.reduce((a, b) => a + b, 0))} free (${each})`;
}

/** The verdict for one model at one context length on these GPUs. */
export function assessModelFit(input: FitInput): FitAssessment {
  const shape = readModelShape(input.model, input.model_info);
  const totalVram = input.gpus.reduce((a, g) => a + (g.memory_total_mb ?? 0), 0);
  const requested = input.context_length ?? input.num_ctx ?? defaultContextLength(totalVram);
  const source =
    input.context_length !== undefined ? '' : input.num_ctx !== undefined ? " (the model's num_ctx)" : " (Ollama's default for this VRAM)";
  const context = shape.trainedContext !== null ? Math.min(requested, shape.trainedContext) : requested;
  const capped = context < requested ? ` (capped from ${requested} at the model's trained context, as Ollama does)` : '';

  const kv = kvCacheBytes(shape, context);
  const weightsMib = toMib(input.size_bytes);
  const kvMib = toMib(kv);
  const overheadMib = toMib(graphBytes(shape, context, kv)) + GPU_MINIMUM_MIB;
  const bodyMib = weightsMib + kvMib;

  const freeNow = input.gpus.map(freeMib);
  const freeNowSum = freeNow.reduce((a, b) => a + b, 0);
  const ownMib = toMib(input.loaded.filter((m) => m.is_target).reduce((a, m) => a + m.size_vram_bytes, 0));
  const others = input.loaded.filter((m) => !m.is_target && m.size_vram_bytes > 0).sort((a, b) => b.size_vram_bytes - a.size_vram_bytes);
  const othersMib = toMib(others.reduce((a, m) => a + m.size_vram_bytes, 0));

  const estimate = (gpusUsed: number): OllamaVramEstimate => ({
    weights: weightsMib,
    kv_cache: kvMib,
    overhead: overheadMib * Math.max(1, gpusUsed),
    total: bodyMib + overheadMib * Math.max(1, gpusUsed),
  });
  const needs = (gpusUsed: number) => {
    const e = estimate(gpusUsed);
    return (
      `'${input.model}' at ${context} tokens${source}${capped} needs about ${fmt(e.total)} ` +
      `(weights ${fmt(e.weights)}, KV cache ${fmt(e.kv_cache)}, overhead ${fmt(e.overhead)}${gpusUsed > 1 ? ` over ${gpusUsed} GPUs` : ''})`
    );
  };
  const own = ownMib > 0 ? ` (its own ${fmt(ownMib)} loaded now counted as free)` : '';
  const base = {
    model: input.model,
    context_length: context,
    free_vram_mb: freeNowSum,
    free_after_unload_mb: freeNowSum + ownMib + othersMib,
  };

  if (input.gpus.length === 0) {
    return {
      ...base,
      estimated_vram_mb: estimate(1),
      unload: [],
      verdict: 'does_not_fit',
      offload_percent: 100,
      explanation: `${needs(1)}; the host reports no GPU, so Ollama would run it on the CPU.`,
    };
  }

  const freeForTarget = addFreed(input.gpus, freeNow, ownMib);
  const now = gpusForFullLoad(freeForTarget, bodyMib, overheadMib);
  if (now > 0) {
    return {
      ...base,
      estimated_vram_mb: estimate(now),
      unload: [],
      verdict: 'fits',
      offload_percent: 0,
      explanation: `${needs(now)}; ${describeGpus(input.gpus, freeForTarget)}${own}, so it fits on the GPU.`,
    };
  }

  // Unload the biggest first: the fewest models to unload.
  let freed = ownMib;
  const unload: string[] = [];
  for (const m of others) {
    freed += toMib(m.size_vram_bytes);
    unload.push(m.name);
    const after = addFreed(input.gpus, freeNow, freed);
    const k = gpusForFullLoad(after, bodyMib, overheadMib);
    if (k > 0) {
      return {
        ...base,
        estimated_vram_mb: estimate(k),
        unload,
        verdict: 'fits_after_unload',
        offload_percent: 0,
        explanation:
          `${needs(k)}; ${describeGpus(input.gpus, freeNow)}${own}; unloading ${unload.join(', ')} (ollama_unload_model) ` +
          `frees enough: ${fmt(after.reduce((a, b) => a + b, 0))}.`,
      };
    }
  }

  // Ollama unloads idle models to make room and puts as many whole layers (plus the output layer) on the GPUs
  // as fit next to each GPU's overhead; the rest runs on the CPU.
  const afterAll = addFreed(input.gpus, freeNow, ownMib + othersMib);
  const layers = shape.blockCount + 1;
  const layerMib = bodyMib / layers;
  const capacity = afterAll.reduce((a, f) => a + Math.max(0, f - overheadMib), 0);
  const onGpu = Math.min(layers, Math.floor(capacity / layerMib));
  const usedGpus = Math.max(1, afterAll.filter((f) => f > overheadMib).length);
  const unloadedText = unload.length ? ` after unloading ${unload.join(', ')}` : '';
  const freeText = `${describeGpus(input.gpus, afterAll)}${unloadedText}${own}`;
  if (onGpu <= 0) {
    return {
      ...base,
      estimated_vram_mb: estimate(1),
      unload,
      verdict: 'does_not_fit',
      offload_percent: 100,
      explanation: `${needs(1)}; ${freeText}, not enough for the overhead and one layer, so Ollama would run it on the CPU only (very slow); try a smaller context_length or a smaller model.`,
    };
  }
  const cpuPercent = Math.max(1, Math.round(100 * (1 - onGpu / layers)));
  return {
    ...base,
    estimated_vram_mb: estimate(usedGpus),
    unload,
    verdict: 'partial_offload',
    offload_percent: cpuPercent,
    explanation:
      `${needs(usedGpus)}; ${freeText}: about ${onGpu} of ${layers} layers fit, so about ${cpuPercent} % would run on the CPU (slower); ` +
      'a smaller context_length needs less.',
  };
}
