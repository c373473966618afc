/** ollama-format.ts: Ollama's list, ps and show answers as this API's results. */
import { describe, expect, it } from 'vitest';
import { bytesToGb, parseParametersText, toModelSummary, toRunningModel } from '../../src/modules/ollama/ollama-format.js';
import { LLAMA32_STOPS, parametersText } from '../support/fake-ollama.js';

describe('parseParametersText (show.parameters)', () => {
  it('reads what Ollama writes: padded names, Go-quoted strings, bare numbers, one line per stop word', () => {
    const text = parametersText({ stop: [...LLAMA32_STOPS], temperature: 0.7, num_ctx: 8192, use_mmap: false });
    expect(text).toContain('stop                           "<|start_header_id|>"');
    expect(parseParametersText(text)).toEqual({ stop: LLAMA32_STOPS, temperature: 0.7, num_ctx: 8192, use_mmap: false });
  });

  it('keeps a single stop word a list, reads Go float notation and escapes, keeps odd names as plain keys', () => {
    const text = [
      'stop                           "<end_of_turn>"',
      'rope_frequency_base            1e+06',
      'stop_note                      "tab\\there \\x41 \\a"',
      '__proto__                      1',
      'mystery                        abc',
    ].join('\n');
    const parsed = parseParametersText(text);
    expect(parsed.stop).toEqual(['<end_of_turn>']);
    expect(parsed.rope_frequency_base).toBe(1_000_000);
    expect(parsed.stop_note).toBe('tab\there A \u0007');
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed.mystery).toBe('abc');
  });

  it('gives an empty object for a model without parameters', () => {
    expect(parseParametersText(undefined)).toEqual({});
    expect(parseParametersText('')).toEqual({});
  });
});

describe('model summaries', () => {
  it('converts sizes to decimal GB with two decimals and missing details to null', () => {
    expect(bytesToGb(2019393189)).toBe(2.02);
    expect(bytesToGb(0)).toBe(0);
    const m = toModelSummary({
      name: 'x:latest',
      model: 'x:latest',
      modified_at: '2025-05-04T17:37:44.706015396-07:00',
      size: 1678447520 + 9136,
      digest: 'ab'.repeat(32),
      details: { parent_model: '', format: 'gguf', family: '', families: null, parameter_size: '', quantization_level: 'Q4_0' },
    });
    expect(m).toEqual({
      name: 'x:latest',
      size_bytes: 1678456656,
      size_gb: 1.68,
      modified_at: '2025-05-04T17:37:44.706015396-07:00',
      family: null,
      parameter_size: null,
      quantization_level: 'Q4_0',
      format: 'gguf',
      digest: 'ab'.repeat(32),
    });
  });

  it('reports the share of a running model in VRAM', () => {
    const details = {
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: null,
      parameter_size: '8B',
      quantization_level: 'Q4_K_M',
    };
    const base = { name: 'a', model: 'a', digest: 'd', details, expires_at: '2026-01-01T00:00:00Z' };
    expect(toRunningModel({ ...base, size: 6591830464, size_vram: 5333539264, context_length: 4096 })).toMatchObject({
      size_gb: 6.59,
      size_vram_bytes: 5333539264,
      gpu_percent: 81,
      context_length: 4096,
    });
    expect(toRunningModel({ ...base, size: 100, size_vram: 0 })).toMatchObject({ gpu_percent: 0, context_length: null });
  });
});
