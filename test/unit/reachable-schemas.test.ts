import { readFileSync } from 'node:fs';
import type { OpenAPIObject } from '@nestjs/swagger';
import { describe, expect, it } from 'vitest';
import { withReachableSchemas } from '../../src/openapi/reachable-schemas.js';

// The committed spec (npm run openapi:generate), the full document every profile is cut from.
const full = JSON.parse(readFileSync('openapi.json', 'utf8')) as OpenAPIObject;

function refsIn(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.add(v);
      else refsIn(v, out);
    }
  return out;
}

const only = (...paths: string[]): OpenAPIObject => ({ ...full, paths: Object.fromEntries(paths.map((p) => [p, full.paths[p]])) });
const schemaNames = (doc: OpenAPIObject) => Object.keys(doc.components?.schemas ?? {}).sort();

describe('withReachableSchemas', () => {
  it('keeps every schema of the full document that an operation uses, and every $ref still resolves', () => {
    const pruned = withReachableSchemas(full);
    for (const ref of refsIn(pruned)) expect(pruned.components!.schemas).toHaveProperty(ref.replace('#/components/schemas/', ''));
    expect(schemaNames(pruned).length).toBeGreaterThan(30);
    expect(pruned.paths).toBe(full.paths);
    expect(pruned.components!.securitySchemes).toEqual(full.components!.securitySchemes);
  });

  it('cuts the GPU profile down to its result, the schemas inside it and the error shape', () => {
    const gpu = withReachableSchemas(only('/gpu/status'));
    expect(schemaNames(gpu)).toEqual(['ErrorResponse', 'GpuInfo', 'GpuProcess', 'GpuStatusResult']);
    expect(JSON.stringify(gpu).length).toBeLessThan(JSON.stringify(full).length / 4);
  });

  it('follows references through nested schemas (files_edit input -> FileEdit)', () => {
    const edit = withReachableSchemas(only('/files/edit'));
    expect(schemaNames(edit)).toContain('FilesEditInput');
    expect(schemaNames(edit)).toContain('FileEdit');
    expect(schemaNames(edit)).not.toContain('FilesWriteInput');
    for (const ref of refsIn(edit)) expect(edit.components!.schemas).toHaveProperty(ref.split('/').pop()!);
  });

  it('terminates on cycles, keeps schemas reached from parameters, drops the rest, ignores dangling refs', () => {
    const doc = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/x': {
          get: {
            parameters: [{ name: 'p', in: 'query', schema: { $ref: '#/components/schemas/Param' } }],
            responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/A' } } } } },
          },
        },
        '/y': { get: { responses: { '200': { $ref: '#/components/schemas/Missing' } } } },
      },
      components: {
        schemas: {
          A: { type: 'object', properties: { b: { $ref: '#/components/schemas/B' } } },
          B: { type: 'object', properties: { a: { allOf: [{ $ref: '#/components/schemas/A' }] } } },
          Param: { type: 'string' },
          Unused: { type: 'object', properties: { a: { $ref: '#/components/schemas/A' } } },
        },
      },
    } as unknown as OpenAPIObject;
    expect(schemaNames(withReachableSchemas(doc))).toEqual(['A', 'B', 'Param']);
  });

  it('leaves a document without paths with no schemas', () => {
    expect(withReachableSchemas({ ...full, paths: {} }).components!.schemas).toEqual({});
  });
});
