import type { OpenAPIObject } from '@nestjs/swagger';

/** A JSON Schema object as MCP's tools/list carries it. */
export type JsonSchema = Record<string, unknown>;

/** Inlines every `#/components/...` $ref so the schema stands alone (Open WebUI passes it to the model as is). */
export function inlineRefs(node: unknown, doc: OpenAPIObject, seen: string[] = []): unknown {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, doc, seen));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  if (typeof obj.$ref === 'string') {
    const ref = obj.$ref;
    if (seen.includes(ref)) return {}; // recursive type: stop rather than loop
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
    return inlineRefs(target, doc, [...seen, ref]);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, inlineRefs(v, doc, seen)]));
}

/**
 * The input schema of an operation, derived from its OpenAPI operation: the JSON body's schema, or an
 * object whose properties are the path and query parameters. REST and MCP therefore accept the same
 * fields with the same descriptions and constraints.
 */
export function inputSchemaOf(doc: OpenAPIObject, path: string, method: 'get' | 'post'): JsonSchema {
  const op = (doc.paths[path] as Record<string, any>)?.[method];
  if (!op) throw new Error(`no ${method.toUpperCase()} ${path} in the OpenAPI document`);
  const fromParams = { type: 'object', properties: {} as Record<string, unknown>, required: [] as string[] };
  for (const p of op.parameters ?? []) {
    const param = inlineRefs(p, doc) as { name: string; in: string; required?: boolean; description?: string; schema?: JsonSchema };
    if (param.in !== 'query' && param.in !== 'path') continue;
    fromParams.properties[param.name] = { ...(param.schema ?? {}), ...(param.description ? { description: param.description } : {}) };
    if (param.required) fromParams.required.push(param.name);
  }
  const bodySchema = op.requestBody ? (inlineRefs(op.requestBody.content?.['application/json']?.schema, doc) as JsonSchema) : undefined;
  const merged: JsonSchema = bodySchema
    ? {
        ...bodySchema,
        type: 'object',
        properties: { ...fromParams.properties, ...((bodySchema.properties as object) ?? {}) },
        required: [...fromParams.required, ...((bodySchema.required as string[]) ?? [])],
      }
    : fromParams;
  if ((merged.required as string[]).length === 0) delete merged.required;
  return merged;
}
