/** create-validators.ts: the rules for ollama_create_model's parameters and adapters maps, alone and through the DTO. */
import { describe, expect, it } from 'vitest';
import { validateInput } from '../../src/common/validation.js';
import { adaptersProblem, parametersProblem } from '../../src/modules/ollama/create-validators.js';

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
