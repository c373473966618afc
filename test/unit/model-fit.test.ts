import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appErrorOf } from '../support/errors.js';
import { parseGpuRows } from '../../src/modules/gpu/nvidia-smi-csv.js';
import {
  GPU_MINIMUM_MIB,
  assessModelFit,
  defaultContextLength,
  graphBytes,
  kvCacheBytes,
  readModelShape,
  type FitGpu,
  type FitInput,
} from '../../src/modules/ollama/model-fit.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const json = (...p: string[]) => JSON.parse(readFileSync(join(FIX, ...p), 'utf8')) as Record<string, unknown>;
const MIB = 1024 * 1024;

// Real model_info captures (test/fixtures/ollama/PROVENANCE.md).
const LLAMA3_8B = (json('ollama', 'show_docs_example.json') as { model_info: Record<string, unknown> }).model_info;
const LLAMA2_7B = json('ollama', 'model_info', 'llama2-7b_ollama-rs-issue163.json');
const GEMMA2_2B = json('ollama', 'model_info', 'gemma2-2b_ollama-issue7610.json');
const LLAMA32_3B = json('ollama', 'model_info', 'llama3.2-3b_ollama-issue7673.json');
/** llama3.2's blob size (the model layer of `llama3.2:latest`, sha256:dde5aa3fc5ff…). */
const LLAMA32_BYTES = 2019393189;

// Real nvidia-smi captures: the derived CSVs' column order (index.json) and the 3x TITAN X gpustat output.
const DERIVED_FIELDS = ['index', 'name', 'uuid', 'driver_version', 'pci.bus_id', 'memory.total', 'memory.used', 'memory.free'];
function capturedGpus(capture: string): FitGpu[] {
  const text = readFileSync(join(FIX, 'nvidia-smi', 'csv', 'derived-from-captures', `${capture}__gpu__csv_noheader_nounits.txt`), 'utf8');
  const fields = [...DERIVED_FIELDS, ...Array.from({ length: 11 }, (_, i) => `unused.${i}`)];
  return parseGpuRows(text, fields);
}
const RTX2080_IDLE = capturedGpus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__idle'); // 8192 MiB, 7571 free
const RTX2080_LOAD = capturedGpus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load'); // 6967 free
const L40S = capturedGpus('linux-x86_64__nvidia-l40s__595.80__idle'); // 46068 MiB
const H100 = capturedGpus('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__idle'); // 81559 MiB
const TITAN_X3 = parseGpuRows(readFileSync(join(FIX, 'nvidia-smi', 'csv', 'gtx-titan-x-x3_gpustat-2016_noheader_nounits.txt'), 'utf8'), [
  'index',
  'uuid',
  'name',
  'temperature.gpu',
  'utilization.gpu',
  'memory.used',
  'memory.total',
]); // 12287 MiB each, 8000/9000/8520 used, no memory.free column

const llama32 = (over: Partial<FitInput> = {}): FitInput => ({
  model: 'llama3.2',
  size_bytes: LLAMA32_BYTES,
  model_info: LLAMA32_3B,
  gpus: RTX2080_IDLE,
  loaded: [],
  ...over,
});

describe('readModelShape on real model_info captures', () => {
  it('llama3 8B (docs): GQA 32/8, head size derived from embedding / heads, vocabulary from vocab_size', () => {
    const s = readModelShape('llama3', LLAMA3_8B);
    expect(s).toMatchObject({
      architecture: 'llama',
      blockCount: 32,
      headCount: 32,
      keyLength: 128,
      valueLength: 128,
      vocabSize: 128256,
      trainedContext: 8192,
    });
    expect(new Set(s.headCountKv)).toEqual(new Set([8]));
    expect(s.headCountKv).toHaveLength(32);
  });

  it('llama2 7B: MHA (32 KV heads), no vocabulary size (tokens null)', () => {
    const s = readModelShape('llama2', LLAMA2_7B);
    expect(s).toMatchObject({ blockCount: 32, headCount: 32, keyLength: 128, vocabSize: null, trainedContext: 4096 });
    expect(s.headCountKv.every((h) => h === 32)).toBe(true);
  });

  it('gemma2 2B: explicit key/value length 256 (not embedding / heads = 288)', () => {
    const s = readModelShape('gemma2:2b', GEMMA2_2B);
    expect(s).toMatchObject({
      architecture: 'gemma2',
      blockCount: 26,
      headCount: 8,
      keyLength: 256,
      valueLength: 256,
      slidingWindow: 4096,
    });
    expect(s.headCountKv[0]).toBe(4);
  });
});

describe('KV cache and compute graph', () => {
  it("matches Ollama's own estimate for llama3.2 at 8192 tokens (real server log): KV 896.0 MiB, graph 424.0 MiB", () => {
    const log = readFileSync(join(FIX, 'ollama', 'memory_estimate_llama3.2_issue8098.txt'), 'utf8');
    const field = (name: string) => new RegExp(`${name.replace(/\./g, '\\.')}="([\\d.]+) MiB"`).exec(log)?.[1];
    const shape = readModelShape('llama3.2', LLAMA32_3B);
    const kv = kvCacheBytes(shape, 8192);
    expect((kv / MIB).toFixed(1)).toBe(field('memory.required.kv'));
    expect((graphBytes(shape, 8192, kv) / MIB).toFixed(1)).toBe(field('memory.graph.full'));
    // Ollama's total adds a one-layer buffer and reports 3.7 GiB; ours must be within 5 % of it.
    const fit = assessModelFit(llama32({ context_length: 8192, gpus: H100 }));
    const ollamaTotalMib = Number(/memory\.required\.full="([\d.]+) GiB"/.exec(log)![1]) * 1024;
    expect(Math.abs(fit.estimated_vram_mb.total - ollamaTotalMib) / ollamaTotalMib).toBeLessThan(0.05);
    // MiB figures are rounded up: the graph's 424.0005 MiB is 425.
    expect(fit.estimated_vram_mb).toEqual({
      weights: 1926,
      kv_cache: 896,
      overhead: 425 + GPU_MINIMUM_MIB,
      total: 1926 + 896 + 425 + GPU_MINIMUM_MIB,
    });
  });

  it('GQA vs MHA: same 4096-wide, 32-layer body, llama2 (MHA) needs 4× the KV cache of llama3 (8 KV heads)', () => {
    const mha = kvCacheBytes(readModelShape('llama2', LLAMA2_7B), 4096);
    const gqa = kvCacheBytes(readModelShape('llama3', LLAMA3_8B), 4096);
    expect(mha).toBe(2 * 4096 * 32 * (128 + 128) * 32); // 2 GiB
    expect(mha / MIB).toBe(2048);
    expect(mha / gqa).toBe(4);
  });

  it('KV grows linearly with the context; gemma2 2B at 8192 is 832 MiB', () => {
    const g = readModelShape('gemma2', GEMMA2_2B);
    expect(kvCacheBytes(g, 8192) / MIB).toBe(832);
    expect(kvCacheBytes(g, 4096) * 2).toBe(kvCacheBytes(g, 8192));
  });

  it('gemma3: 5 of every 6 layers hold only the sliding window (plus a batch)', () => {
    const info = { ...GEMMA2_2B, 'general.architecture': 'gemma3' } as Record<string, unknown>;
    for (const k of Object.keys(GEMMA2_2B)) if (k.startsWith('gemma2.')) info[k.replace('gemma2.', 'gemma3.')] = GEMMA2_2B[k];
    info['gemma3.attention.sliding_window'] = 1024;
    const s = readModelShape('gemma3', info);
    const perToken = (256 + 256) * 4 * 2;
    const globalLayers = 4; // layers 6, 12, 18, 24 of 26
    expect(kvCacheBytes(s, 32768)).toBe(globalLayers * 32768 * perToken + (26 - globalLayers) * (1024 + 512) * perToken);
  });

  it("graph falls back to Ollama's rule (GQA × KV / 6) when the embedding length is missing", () => {
    const info = { ...LLAMA3_8B };
    delete info['llama.embedding_length'];
    info['llama.attention.key_length'] = 128;
    info['llama.attention.value_length'] = 128;
    const s = readModelShape('x', info);
    const kv = kvCacheBytes(s, 4096);
    expect(graphBytes(s, 4096, kv)).toBe(Math.round((32 / 8) * (kv / 6)));
  });
});

describe('context length', () => {
  it("Ollama's defaults by VRAM: 4k under 24 GiB, 32k under 48 GiB, 256k from 48 GiB", () => {
    expect([8192, 24575, 24576, 49151, 49152, 81559].map(defaultContextLength)).toEqual([4096, 4096, 32768, 32768, 262144, 262144]);
  });

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

describe('hostile or incomplete model_info', () => {
  const bad = (info: Record<string, unknown>) => appErrorOf(() => readModelShape('m', info));

  it.each([
    ['no architecture', {}],
    ['architecture not a name', { 'general.architecture': 'x; rm -rf /' }],
    ['no block count', { 'general.architecture': 'llama', 'llama.embedding_length': 4096 }],
    ['block count a string', { ...LLAMA3_8B, 'llama.block_count': '32' }],
    ['block count negative', { ...LLAMA3_8B, 'llama.block_count': -32 }],
    ['block count absurd', { ...LLAMA3_8B, 'llama.block_count': 1e12 }],
    ['block count fractional', { ...LLAMA3_8B, 'llama.block_count': 31.5 }],
    ['no heads at all', { 'general.architecture': 'llama', 'llama.block_count': 32, 'llama.embedding_length': 4096 }],
  ])('%s → 400 naming the missing key', (_, info) => {
    const err = bad(info as Record<string, unknown>);
    expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(err.message).toMatch(/Ollama reports no \S+ for 'm'/);
  });

  it('KV heads as a per-layer list (0 = recurrent layer without cache) and the empty list non-verbose show sends', () => {
    const list = readModelShape('m', { ...LLAMA3_8B, 'llama.attention.head_count_kv': [8, 0, 8] });
    expect(list.headCountKv.slice(0, 4)).toEqual([8, 0, 8, 8]);
    expect(kvCacheBytes(list, 100)).toBe(31 * 100 * 256 * 8 * 2);
    const empty = readModelShape('m', { ...LLAMA3_8B, 'llama.attention.head_count_kv': [] });
    expect(empty.headCountKv.every((h) => h === 32)).toBe(true); // falls back to MHA, the safe side
  });

  it('garbage in optional keys is ignored, not trusted', () => {
    const s = readModelShape('m', {
      ...LLAMA3_8B,
      'llama.vocab_size': 'lots',
      'llama.context_length': -1,
      'llama.attention.key_length': Number.NaN,
    });
    expect(s).toMatchObject({ vocabSize: null, trainedContext: null, keyLength: 128 });
  });
});
