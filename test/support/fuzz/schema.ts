/**
 * The operations of the served spec as the fuzzer sees them (every field with its schema, $refs inlined), and a
 * small JSON Schema checker with the server's leniencies, used to make sure a generated input is invalid.
 */
import { inlineRefs } from '../openapi-refs.js';

export type Schema = Record<string, any>;
export type Mode = 'json' | 'query';
export interface Field {
  name: string;
  schema: Schema;
  required: boolean;
  in: 'query' | 'path' | 'body';
}
export interface Op {
  id: string;
  method: 'GET' | 'POST';
  path: string;
  fields: Field[];
  hasBody: boolean;
}

export function operationsOf(spec: any): Op[] {
  const inline = (node: any) => inlineRefs(spec, node);
  const ops: Op[] = [];
  for (const [p, item] of Object.entries<any>(spec.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      const fields: Field[] = (op.parameters ?? []).map((prm: any) => ({
        name: prm.name,
        schema: inline(prm.schema ?? {}),
        required: !!prm.required,
        in: prm.in,
      }));
      const body = op.requestBody ? inline(op.requestBody.content['application/json'].schema) : undefined;
      for (const [name, schema] of Object.entries<any>(body?.properties ?? {})) {
        fields.push({ name, schema, required: (body.required ?? []).includes(name), in: 'body' });
      }
      ops.push({ id: op.operationId, method: method.toUpperCase() as Op['method'], path: p, fields, hasBody: !!body });
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------------------
// A small JSON Schema checker with the server's leniencies, used to make sure a generated input is invalid

const lenientLength = (s: string) =>
  s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0) - (s.match(/[\uFE0E\uFE0F]/g)?.length ?? 0);
const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Might the server turn this into a valid number? Query numbers go through Number() (@Type(() => Number)). */
function maybeValidNumber(v: unknown, s: Schema): boolean {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return false;
  let n: number;
  try {
    n = Number(v);
  } catch {
    return false;
  }
  if (!Number.isFinite(n)) return false;
  if (s.type === 'integer' && !Number.isInteger(n)) return false;
  if (s.minimum !== undefined && n < s.minimum) return false;
  if (s.maximum !== undefined && n > s.maximum) return false;
  return true;
}

/**
 * Whether the value could be accepted. Errs towards "yes": a false answer must mean the server has to refuse
 * it. An optional property that is null counts as absent (class-validator's @IsOptional); objects with
 * declared properties are closed (the server refuses unknown fields).
 */
export function conforms(v: unknown, s: Schema | boolean | undefined): boolean {
  if (s === undefined || s === true) return true;
  if (s === false) return false;
  if (s.anyOf) return s.anyOf.some((x: Schema) => conforms(v, x));
  if (s.oneOf) return s.oneOf.some((x: Schema) => conforms(v, x));
  if (s.allOf && !s.allOf.every((x: Schema) => conforms(v, x))) return false;
  if (s.enum && !s.enum.includes(v)) return false;
  switch (s.type) {
    case 'string': {
      if (typeof v !== 'string') return false;
      if (s.maxLength !== undefined && lenientLength(v) > s.maxLength) return false;
      if (s.minLength !== undefined && v.length < s.minLength) return false;
      if (s.pattern && !new RegExp(s.pattern).test(v)) return false;
      if (s.format === 'uuid' && !UUID_LIKE.test(v)) return false;
      return true;
    }
    case 'number':
    case 'integer':
      return maybeValidNumber(v, s);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      if (!Array.isArray(v)) return false;
      if (s.minItems !== undefined && v.length < s.minItems) return false;
      if (s.maxItems !== undefined && v.length > s.maxItems) return false;
      return v.every((x) => conforms(x, s.items));
    case 'object': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      const o = v as Record<string, unknown>;
      const props: Record<string, Schema> = s.properties ?? {};
      const required: string[] = s.required ?? [];
      for (const r of required) if (o[r] === undefined || o[r] === null) return false;
      for (const [k, x] of Object.entries(o)) {
        if (Object.hasOwn(props, k)) {
          if ((x === null || x === undefined) && !required.includes(k)) continue;
          if (!conforms(x, props[k])) return false;
        } else if (s.additionalProperties !== undefined) {
          if (!conforms(x, s.additionalProperties)) return false;
        } else if (s.properties) {
          return false;
        }
      }
      return true;
    }
    default:
      return true;
  }
}
