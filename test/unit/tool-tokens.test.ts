/** scripts/tool-tokens.mjs: the tool list Open WebUI builds from a spec, and the Llama 3 token count. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { countTokens, functionTokens, openWebUiTools } from '../../scripts/tool-tokens.mjs';

const spec = {
  openapi: '3.0.0',
  paths: {
    '/a': {
      get: {
        operationId: 'read_a',
        description: 'Reads a.',
        summary: 'ignored when there is a description',
        parameters: [
          { name: 'mode', in: 'query', required: true, description: 'How.', schema: { type: 'string', enum: ['x', 'y'] } },
          { name: 'n', in: 'query', schema: { type: 'integer', description: 'Count from the schema.', maximum: 5 } },
        ],
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Out' } } } } },
      },
      post: { summary: 'no operationId: Open WebUI skips it', responses: {} },
    },
    '/b/{id}': {
      post: {
        operationId: 'write_b',
        summary: 'Writes b.',
        parameters: [{ name: 'id', in: 'path', required: true, description: 'Which.', schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/BodyB' } } } },
      },
    },
  },
  components: {
    schemas: {
      Out: { type: 'object', properties: { secret_output_field: { type: 'string' } } },
      BodyB: {
        type: 'object',
        properties: { text: { type: 'string', description: 'What.', maxLength: 9 }, item: { $ref: '#/components/schemas/Item' } },
        required: ['text', 'id'],
      },
      Item: { type: 'object', properties: { k: { type: 'string' } } },
    },
  },
};

describe('openWebUiTools', () => {
  const tools = openWebUiTools(spec);

  it('makes one function per operation with an operationId, named after it', () => {
    expect(tools.map((t: any) => t.name)).toEqual(['read_a', 'write_b']);
    expect(tools[0].description).toBe('Reads a.');
    expect(tools[1].description).toBe('Writes b.'); // the summary when there is no description
  });

  it('gives path and query parameters their type and description only, the enum appended', () => {
    expect(tools[0].parameters).toEqual({
      type: 'object',
      properties: {
        mode: { type: 'string', description: 'How.. Possible values: x, y' },
        n: { type: 'integer', description: 'Count from the schema.' },
      },
      required: ['mode'],
    });
  });

  it('adds the JSON body top-level properties whole, references resolved, required lists merged', () => {
    expect(tools[1].parameters.properties).toEqual({
      id: { type: 'string', description: 'Which.' },
      text: { type: 'string', description: 'What.', maxLength: 9 },
      item: { type: 'object', properties: { k: { type: 'string' } } },
    });
    expect([...tools[1].parameters.required].sort()).toEqual(['id', 'text']);
  });

  it('never sends response schemas', () => {
    expect(JSON.stringify(tools)).not.toContain('secret_output_field');
  });

  it('survives a reference loop', () => {
    const loop = {
      paths: {
        '/l': {
          post: { operationId: 'l', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/L' } } } } },
        },
      },
      components: { schemas: { L: { type: 'object', properties: { next: { $ref: '#/components/schemas/L' } } } } },
    };
    // The body is L; its field refers to L again and stops there.
    expect(openWebUiTools(loop)[0].parameters.properties.next).toEqual({});
  });
});

describe('countTokens (Llama 3 tokenizer)', () => {
  it('counts known texts', () => {
    expect(countTokens('Hello world, this is a test.')).toBe(8);
    expect(countTokens('')).toBe(0);
    // Digits go in groups of up to three in Llama 3.
    expect(countTokens('1234567')).toBe(3);
  });

  it('counts a function as the JSON the model receives', () => {
    const fn = openWebUiTools(spec)[0];
    expect(functionTokens(fn)).toBe(countTokens(JSON.stringify({ type: 'function', function: fn })));
    expect(functionTokens(fn)).toBeGreaterThan(20);
  });
});
