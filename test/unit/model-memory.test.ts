/** model-memory.ts: the model's dimensions from real model_info captures, and the KV cache and compute graph they need. */
import { describe, expect, it } from 'vitest';
import { appErrorOf } from '../support/errors.js';
import { GEMMA2_2B, LLAMA2_7B, LLAMA32_3B, LLAMA3_8B, MIB, memoryLogMib } from '../support/fit-fixtures.js';
import { defaultContextLength, graphBytes, kvCacheBytes, readModelShape } from '../../src/modules/ollama/model-memory.js';

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
    const shape = readModelShape('llama3.2', LLAMA32_3B);
    const kv = kvCacheBytes(shape, 8192);
    expect((kv / MIB).toFixed(1)).toBe(memoryLogMib('memory.required.kv'));
    expect((graphBytes(shape, 8192, kv) / MIB).toFixed(1)).toBe(memoryLogMib('memory.graph.full'));
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
