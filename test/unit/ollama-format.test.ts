import { describe, expect, it } from 'vitest';
import { validateInput } from '../../src/common/validation.js';
import { createBody } from '../../src/modules/ollama/create-body.js';
import { adaptersProblem, parametersProblem } from '../../src/modules/ollama/create-validators.js';
import { bytesToGb, parseParametersText, toModelSummary, toRunningModel } from '../../src/modules/ollama/ollama-format.js';
import { LLAMA32_STOPS, parametersText } from '../support/fake-ollama.js';
import { appErrorOf } from '../support/errors.js';

const failure = appErrorOf;

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

describe('create body', () => {
  it('refuses modelfile together with structured fields, naming them', () => {
    const e = failure(() => createBody({ model: 'a', modelfile: 'FROM llama3.2', system: 'x', parameters: { temperature: 1 } }));
    expect(e.status).toBe(400);
    expect(e.message).toContain('either modelfile or the structured fields');
    expect(e.message).toContain('system, parameters were given with modelfile');
  });

  it('requires from without a modelfile', () => {
    const e = failure(() => createBody({ model: 'a', system: 'You are terse.' }));
    expect(e.message).toContain('from: required when no modelfile is given');
  });

  it('builds the structured body from a Modelfile, quantize allowed alongside', () => {
    expect(createBody({ model: 'a', modelfile: 'FROM llama3.2\nPARAMETER temperature 0.6\n', quantize: 'q4_K_M' })).toEqual({
      model: 'a',
      from: 'llama3.2',
      parameters: { temperature: 0.6 },
      quantize: 'q4_K_M',
    });
  });

  it('passes structured fields through, a single stop word becoming a list', () => {
    expect(
      createBody({
        model: 'a',
        from: 'llama3.2',
        system: 'S',
        parameters: { stop: '<|eot_id|>', num_ctx: 8192 },
        messages: [{ role: 'user', content: 'hi' }],
        license: 'MIT',
      }),
    ).toEqual({
      model: 'a',
      from: 'llama3.2',
      system: 'S',
      parameters: { stop: ['<|eot_id|>'], num_ctx: 8192 },
      messages: [{ role: 'user', content: 'hi' }],
      license: 'MIT',
    });
  });
});

describe('create validators', () => {
  it('accepts the parameter types of a Modelfile and names what is wrong', () => {
    expect(parametersProblem({ temperature: 0.6, num_ctx: 8192, use_mmap: true, stop: ['a', 'b'] })).toBeUndefined();
    expect(parametersProblem({ stop: 'one' })).toBeUndefined();
    expect(parametersProblem({ temprature: 0.6 })).toMatch(/unknown parameter 'temprature'; known parameters are .*temperature/);
    expect(parametersProblem({ num_ctx: 81.5 })).toBe('num_ctx must be a whole number');
    expect(parametersProblem({ temperature: '0.6' })).toBe('temperature must be a number such as 0.7');
    expect(parametersProblem({ use_mmap: 'yes' })).toBe('use_mmap must be true or false');
    expect(parametersProblem({ stop: [1] })).toMatch(/list of non-empty strings/);
    expect(parametersProblem(['temperature'])).toMatch(/must be an object/);
    expect(parametersProblem(JSON.parse('{"__proto__": 1}'))).toMatch(/unknown parameter '__proto__'/);
  });

  it('accepts adapter maps of blob digests only', () => {
    expect(adaptersProblem({ 'lora.gguf': `sha256:${'a'.repeat(64)}` })).toBeUndefined();
    expect(adaptersProblem({ '../x': `sha256:${'a'.repeat(64)}` })).toMatch(/invalid file name/);
    expect(adaptersProblem({ 'lora.gguf': '/home/me/lora.gguf' })).toMatch(/blob digest/);
    expect(adaptersProblem({})).toMatch(/at least one/);
  });
});

describe('validation messages through the shared validator', () => {
  it('reports a bad parameter under its field name', async () => {
    // The DTO is imported lazily: its decorators need reflect-metadata, which the built server loads first.
    await import('reflect-metadata');
    const { OllamaCreateModelInput } = await import('../../src/modules/ollama/dto/ollama-jobs.dto.js');
    await expect(validateInput(OllamaCreateModelInput, { model: 'a', from: 'b', parameters: { temperature: 'hot' } })).rejects.toThrow(
      'Invalid input: parameters: temperature must be a number such as 0.7.',
    );
    await expect(validateInput(OllamaCreateModelInput, { model: 'Bad Name!' })).rejects.toThrow(/model: must be an Ollama model name/);
  });
});
