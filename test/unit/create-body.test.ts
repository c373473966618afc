/** create-body.ts: the structured /api/create body from ollama_create_model's input (Modelfile text or fields). */
import { describe, expect, it } from 'vitest';
import { createBody } from '../../src/modules/ollama/create-body.js';
import { appErrorOf } from '../support/errors.js';

describe('createBody', () => {
  it('refuses modelfile together with structured fields, naming them', () => {
    const e = appErrorOf(() => createBody({ model: 'a', modelfile: 'FROM llama3.2', system: 'x', parameters: { temperature: 1 } }));
    expect(e.status).toBe(400);
    expect(e.message).toContain('either modelfile or the structured fields');
    expect(e.message).toContain('system, parameters were given with modelfile');
  });

  it('requires from without a modelfile', () => {
    const e = appErrorOf(() => createBody({ model: 'a', system: 'You are terse.' }));
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
