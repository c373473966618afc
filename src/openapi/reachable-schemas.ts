import type { OpenAPIObject } from '@nestjs/swagger';

const SCHEMA_REF = '#/components/schemas/';

/**
 * The document with only the component schemas its paths use, directly or through other schemas: a
 * client that imports a one-operation profile should not read (or send to its model) all the others.
 */
export function withReachableSchemas(doc: OpenAPIObject): OpenAPIObject {
  const all = doc.components?.schemas ?? {};
  const reached = new Set<string>();
  const pending: unknown[] = [doc.paths];
  while (pending.length) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF)) {
          const name = value.slice(SCHEMA_REF.length);
          if (!reached.has(name) && name in all) {
            reached.add(name);
            pending.push(all[name]);
          }
        } else pending.push(value);
      }
    }
  }
  const schemas = Object.fromEntries(Object.entries(all).filter(([name]) => reached.has(name)));
  return { ...doc, components: { ...doc.components, schemas } };
}
