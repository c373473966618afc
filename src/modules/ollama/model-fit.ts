/**
 * ollama_model_fit's verdict: whether a model fits the free memory of the host's GPUs now, after unloading
 * other models, or only partly (some layers on the CPU), with the numbers in one sentence. Pure; the memory
 * terms come from model-memory.ts and the service gathers the inputs (/api/tags, /api/show, /api/ps,
 * gpu_status).
 */
import type { OllamaModelFitResult, OllamaVramEstimate } from './dto/ollama-model-fit.dto.js';
import { defaultContextLength, GPU_MINIMUM_MIB, graphBytes, kvCacheBytes, MIB, readModelShape } from './model-memory.js';

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
export function freeMib(gpu: FitGpu): number {
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
  const result = (
    verdict: FitAssessment['verdict'],
    gpusUsed: number,
    unload: string[],
    offloadPercent: number,
    explanation: string,
  ): FitAssessment => ({
    model: input.model,
    context_length: context,
    free_vram_mb: freeNowSum,
    free_after_unload_mb: freeNowSum + ownMib + othersMib,
    estimated_vram_mb: estimate(gpusUsed),
    unload,
    verdict,
    offload_percent: offloadPercent,
    explanation,
  });

  if (input.gpus.length === 0) {
    return result('does_not_fit', 1, [], 100, `${needs(1)}; the host reports no GPU, so Ollama would run it on the CPU.`);
  }

  const freeForTarget = addFreed(input.gpus, freeNow, ownMib);
  const now = gpusForFullLoad(freeForTarget, bodyMib, overheadMib);
  if (now > 0) {
    return result('fits', now, [], 0, `${needs(now)}; ${describeGpus(input.gpus, freeForTarget)}${own}, so it fits on the GPU.`);
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
      return result(
        'fits_after_unload',
        k,
        unload,
        0,
        `${needs(k)}; ${describeGpus(input.gpus, freeNow)}${own}; unloading ${unload.join(', ')} (ollama_unload_model) ` +
          `frees enough: ${fmt(after.reduce((a, b) => a + b, 0))}.`,
      );
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
    return result(
      'does_not_fit',
      1,
      unload,
      100,
      `${needs(1)}; ${freeText}, not enough for the overhead and one layer, so Ollama would run it on the CPU only (very slow); try a smaller context_length or a smaller model.`,
    );
  }
  const cpuPercent = Math.max(1, Math.round(100 * (1 - onGpu / layers)));
  return result(
    'partial_offload',
    usedGpus,
    unload,
    cpuPercent,
    `${needs(usedGpus)}; ${freeText}: about ${onGpu} of ${layers} layers fit, so about ${cpuPercent} % would run on the CPU (slower); ` +
      'a smaller context_length needs less.',
  );
}
