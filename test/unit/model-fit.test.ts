/** model-fit.ts: the verdict (fits, fits after unloading, partial offload, does not fit) against captured GPUs. */
import { describe, expect, it } from 'vitest';
import {
  H100,
  L40S,
  LLAMA32_3B,
  LLAMA32_BYTES,
  LLAMA32_MEMORY_LOG,
  LLAMA3_8B,
  MIB,
  RTX2080_IDLE,
  RTX2080_LOAD,
  TITAN_X3,
} from '../support/fit-fixtures.js';
import { assessModelFit, type FitGpu, type FitInput } from '../../src/modules/ollama/model-fit.js';
import { GPU_MINIMUM_MIB } from '../../src/modules/ollama/model-memory.js';

const llama32 = (over: Partial<FitInput> = {}): FitInput => ({
  model: 'llama3.2',
  size_bytes: LLAMA32_BYTES,
  model_info: LLAMA32_3B,
  gpus: RTX2080_IDLE,
  loaded: [],
  ...over,
});

describe('the estimate', () => {
  it("is within 5 % of Ollama's own total for llama3.2 at 8192 tokens (real server log), in MiB rounded up", () => {
    // Ollama's total adds a one-layer buffer and reports 3.7 GiB.
    const fit = assessModelFit(llama32({ context_length: 8192, gpus: H100 }));
    const ollamaTotalMib = Number(/memory\.required\.full="([\d.]+) GiB"/.exec(LLAMA32_MEMORY_LOG)![1]) * 1024;
    expect(Math.abs(fit.estimated_vram_mb.total - ollamaTotalMib) / ollamaTotalMib).toBeLessThan(0.05);
    // The graph's 424.0005 MiB is 425.
    expect(fit.estimated_vram_mb).toEqual({
      weights: 1926,
      kv_cache: 896,
      overhead: 425 + GPU_MINIMUM_MIB,
      total: 1926 + 896 + 425 + GPU_MINIMUM_MIB,
    });
  });
});

describe('context length', () => {
  it('defaults from the captured GPUs: 8 GiB → 4096, L40S 45 GiB → 32768, H100 80 GiB → 262144 capped at the trained 131072', () => {
    expect(assessModelFit(llama32()).context_length).toBe(4096);
    expect(assessModelFit(llama32({ gpus: L40S })).context_length).toBe(32768);
    const h100 = assessModelFit(llama32({ gpus: H100 }));
    expect(h100.context_length).toBe(131072);
    expect(h100.explanation).toContain('capped from 262144');
  });

  it('several GPUs: the total VRAM decides (3 × 12 GiB → 32768)', () => {
    expect(assessModelFit(llama32({ gpus: TITAN_X3 })).context_length).toBe(32768);
  });

  it("the model's num_ctx beats the default; an explicit context_length beats both; both are capped at the trained context", () => {
    expect(assessModelFit(llama32({ num_ctx: 16384 })).context_length).toBe(16384);
    expect(assessModelFit(llama32({ num_ctx: 16384, context_length: 2048 })).context_length).toBe(2048);
    const capped = assessModelFit({ ...llama32(), model_info: LLAMA3_8B, context_length: 1_000_000 });
    expect(capped.context_length).toBe(8192);
  });
});

describe('verdicts against captured GPUs', () => {
  it('fits: llama3.2 at 4096 on an idle 8 GiB RTX 2080 SUPER (7571 MiB free)', () => {
    const fit = assessModelFit(llama32());
    expect(fit).toMatchObject({ verdict: 'fits', unload: [], offload_percent: 0, free_vram_mb: 7571, free_after_unload_mb: 7571 });
    expect(fit.estimated_vram_mb.total).toBe(1926 + 448 + 257 + GPU_MINIMUM_MIB);
    expect(fit.explanation).toMatch(/needs about 3088 MiB .*7571 MiB free, so it fits/);
  });

  it('fits_after_unload: unloads the biggest loaded model only, and says how much that frees', () => {
    const fit = assessModelFit(
      llama32({
        context_length: 32768,
        gpus: RTX2080_LOAD,
        loaded: [
          { name: 'small:latest', size_vram_bytes: 300 * MIB, is_target: false },
          { name: 'deepseek-r1:latest', size_vram_bytes: 5000 * MIB, is_target: false },
        ],
      }),
    );
    expect(fit.estimated_vram_mb.total).toBeGreaterThan(6967);
    expect(fit).toMatchObject({ verdict: 'fits_after_unload', unload: ['deepseek-r1:latest'], offload_percent: 0 });
    expect(fit.free_after_unload_mb).toBe(6967 + 5300);
    expect(fit.explanation).toContain('unloading deepseek-r1:latest');
  });

  it('partial_offload: llama3 8B at its full 8192 tokens does not fit a 4 GiB-free GPU; ~N % of layers on the CPU', () => {
    const gpus: FitGpu[] = [{ index: 0, name: 'NVIDIA GeForce GTX 1650', memory_total_mb: 4096, memory_used_mb: 0, memory_free_mb: 4000 }];
    const fit = assessModelFit({ model: 'llama3', size_bytes: 4_661_224_676, model_info: LLAMA3_8B, num_ctx: 8192, gpus, loaded: [] });
    expect(fit.verdict).toBe('partial_offload');
    const e = fit.estimated_vram_mb;
    const layers = 33;
    const onGpu = Math.floor((4000 - e.overhead) / ((e.weights + e.kv_cache) / layers));
    expect(fit.offload_percent).toBe(Math.round(100 * (1 - onGpu / layers)));
    expect(fit.offload_percent).toBeGreaterThan(0);
    expect(fit.offload_percent).toBeLessThan(100);
    expect(fit.explanation).toContain(`about ${onGpu} of 33 layers`);
  });

  it('partial_offload counts what unloading everything frees, and lists it', () => {
    const fit = assessModelFit(
      llama32({ context_length: 65536, gpus: RTX2080_LOAD, loaded: [{ name: 'gemma:2b', size_vram_bytes: 2000 * MIB, is_target: false }] }),
    );
    expect(fit.verdict).toBe('partial_offload');
    expect(fit.unload).toEqual(['gemma:2b']);
    expect(fit.free_after_unload_mb).toBe(6967 + 2000);
  });

  it('does_not_fit: at 131072 tokens the compute graph alone fills the 6967 MiB free', () => {
    const fit = assessModelFit(llama32({ context_length: 131072, gpus: RTX2080_LOAD }));
    expect(fit.estimated_vram_mb.overhead).toBeGreaterThan(6000);
    expect(fit).toMatchObject({ verdict: 'does_not_fit', offload_percent: 100 });
    expect(fit.explanation).toContain('CPU only');
  });

  it('the checked model being loaded already: its own VRAM counts as free, and it is not in unload', () => {
    const fit = assessModelFit(
      llama32({
        gpus: [{ ...RTX2080_IDLE[0], memory_free_mb: 1000 }],
        loaded: [{ name: 'llama3.2:latest', size_vram_bytes: 3_321_450_496, is_target: true }],
      }),
    );
    expect(fit).toMatchObject({ verdict: 'fits', unload: [] });
    expect(fit.explanation).toContain('loaded now counted as free');
  });

  it('no GPU reported: does_not_fit, runs on the CPU', () => {
    expect(assessModelFit(llama32({ gpus: [] }))).toMatchObject({ verdict: 'does_not_fit', offload_percent: 100, free_vram_mb: 0 });
  });
});

describe('several GPUs (3x GTX TITAN X, 4287 / 3287 / 3767 MiB free from total minus used)', () => {
  it('a model that fits one GPU stays on one', () => {
    const fit = assessModelFit(llama32({ gpus: TITAN_X3, context_length: 4096 }));
    expect(fit).toMatchObject({ verdict: 'fits', free_vram_mb: 4287 + 3287 + 3767 });
    expect(fit.estimated_vram_mb.overhead).toBe(257 + GPU_MINIMUM_MIB);
  });

  it('a 7B model too big for any one GPU is split over two, each carrying its own overhead', () => {
    // qwen2-7B-shaped dimensions (28 layers, GQA 28/4) on the llama keys.
    const info = {
      ...LLAMA3_8B,
      'llama.embedding_length': 3584,
      'llama.attention.head_count': 28,
      'llama.attention.head_count_kv': 4,
      'llama.block_count': 28,
    };
    const input: FitInput = {
      model: 'deepseek-r1',
      size_bytes: 4683075271,
      model_info: info,
      context_length: 4096,
      gpus: TITAN_X3,
      loaded: [],
    };
    const split = assessModelFit(input);
    const one = assessModelFit({ ...input, gpus: [TITAN_X3[0]] });
    expect(one.verdict).toBe('partial_offload');
    expect(split.verdict).toBe('fits');
    expect(split.estimated_vram_mb.overhead).toBe(2 * one.estimated_vram_mb.overhead);
    expect(split.estimated_vram_mb.total).toBeGreaterThan(4287);
    expect(split.explanation).toContain('over 2 GPUs');
    expect(split.explanation).toContain('0: 4287 MiB, 1: 3287 MiB, 2: 3767 MiB');
  });

  it('freed VRAM is spread over the GPUs by what each has in use', () => {
    const fit = assessModelFit(
      llama32({ gpus: TITAN_X3, context_length: 32768, loaded: [{ name: 'big:70b', size_vram_bytes: 20000 * MIB, is_target: false }] }),
    );
    expect(fit.verdict).toBe('fits_after_unload');
    expect(fit.free_after_unload_mb).toBe(4287 + 3287 + 3767 + 20000);
  });
});
