import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { AREAS, findOperation, openApiPath, operations } from '../operations/operation.js';
import { withReachableSchemas } from './reachable-schemas.js';

export const PROFILES = ['readonly', ...AREAS] as const;
export type Profile = (typeof PROFILES)[number];

const DESCRIPTION = `Manage a GPU host from a chat: GPU status (nvidia-smi), host resources, Ollama models, shell commands and files.
Operations take \`host\` when several hosts are configured (see list_hosts). Errors are JSON objects {statusCode, error, code, message} whose message says what to do.`;

/**
 * Builds the OpenAPI document from the running application's controllers (never dials a host). `hosts`
 * are the configured host names: the `host` input is advertised only when there is a choice.
 */
export function buildOpenApi(app: INestApplication, version: string, hosts: readonly string[], defaultHost?: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('gpu-host-tools')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key (scopes read, write, shell)' })
    .build();
  const doc = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
    autoTagControllers: false, // the area tag from the operation definition is the only tag
  });
  // Stable key order so the committed openapi.json diffs cleanly.
  doc.paths = Object.fromEntries(Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b)));
  doc.tags = AREAS.map((name) => ({ name }));
  markIntegers(doc);
  markHtmlAnswers(doc);
  shapeInputsForModels(doc, hosts, defaultHost ?? hosts[0]);
  return doc;
}

/** Operations answering an HTML page document their 200 as text/html (Open WebUI then embeds it). */
function markHtmlAnswers(doc: OpenAPIObject): void {
  for (const op of operations()) {
    if (!op.html) continue;
    const item = (doc.paths[openApiPath(op)] as Record<string, any>)?.[op.method.toLowerCase()];
    if (!item?.responses) continue;
    item.responses['200'] = {
      description: 'A self-contained HTML page (inline styles and script, no external requests), sent with Content-Disposition: inline.',
      content: { 'text/html': { schema: { type: 'string' } } },
    };
  }
}

/**
 * Open WebUI puts every tool's input schema into every chat request, and small local models have a 4k
 * context, so the inputs say only what a model needs to call them right. Patterns and length or range
 * bounds leave the served schema (the validators still apply them and their messages name the rule; the
 * descriptions give the ranges a model needs): Ollama's model-name rule alone was ~100 tokens on each of
 * a dozen fields. `host` is left out when only one host is configured
 * (a `host` naming it is still accepted) and is otherwise an enum of the configured names.
 */
const VALIDATION_ONLY = ['pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum', 'additionalProperties'];

function shapeInputsForModels(doc: OpenAPIObject, hosts: readonly string[], defaultHost: string | undefined): void {
  const schemas = (doc.components?.schemas ?? {}) as Record<string, Record<string, any>>;
  const hostSchema = { type: 'string', enum: [...hosts] };
  // The enum already lists the names (Open WebUI appends "Possible values: ..."); say only which is used by default.
  const hostDescription = `Default: ${defaultHost}.`;
  const shapeHost = (props: Record<string, any> | undefined) => {
    if (!props?.host) return;
    if (hosts.length > 1) props.host = { ...hostSchema, description: hostDescription };
    else delete props.host;
  };
  // `properties` maps field names to schemas: a field may be called "pattern" (files_search).
  const stripBounds = (node: unknown, seen: Set<string>, propertyMap = false): void => {
    if (Array.isArray(node)) return node.forEach((n) => stripBounds(n, seen));
    if (!node || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.$ref === 'string') {
      const name = obj.$ref.replace('#/components/schemas/', '');
      if (!seen.has(name)) {
        seen.add(name);
        stripBounds(schemas[name], seen);
      }
      return;
    }
    if (!propertyMap)
      for (const k of VALIDATION_ONLY) if (k in obj && (k !== 'additionalProperties' || obj.type === 'object')) delete obj[k];
    for (const [k, v] of Object.entries(obj)) stripBounds(v, seen, !propertyMap && k === 'properties');
  };
  const seen = new Set<string>();
  for (const op of operations()) {
    const item = (doc.paths[openApiPath(op)] as Record<string, any>)?.[op.method.toLowerCase()];
    if (!item) continue;
    const params: Array<Record<string, any>> = item.parameters ?? [];
    item.parameters = params.filter((p) => p.name !== 'host' || hosts.length > 1);
    for (const p of item.parameters) {
      if (p.name !== 'host') continue;
      p.schema = { ...hostSchema };
      p.description = hostDescription;
    }
    stripBounds(item.parameters, seen);
    const body = schemas[op.input.name];
    if (item.requestBody && body) {
      shapeHost(body.properties);
      seen.add(op.input.name);
      stripBounds(body, seen);
    }
  }
}

/**
 * The swagger plugin types every TypeScript `number` as "number"; fields validated with @IsInt are
 * integers, and saying so tells the model not to send 2.5 seconds or offsets.
 */
function markIntegers(doc: OpenAPIObject): void {
  const storage = getMetadataStorage();
  const intFields = (cls: Type<object> | undefined) =>
    new Set(
      cls
        ? storage
            .getTargetValidationMetadatas(cls, '', true, false)
            .filter((m) => m.name === 'isInt')
            .map((m) => m.propertyName)
        : [],
    );
  for (const op of operations()) {
    const ints = new Set([...intFields(op.input), ...intFields(op.params)]);
    if (!ints.size) continue;
    const item = (doc.paths[openApiPath(op)] as Record<string, any>)?.[op.method.toLowerCase()];
    for (const p of item?.parameters ?? []) if (ints.has(p.name) && p.schema?.type === 'number') p.schema.type = 'integer';
    const props = (doc.components?.schemas?.[op.input.name] as { properties?: Record<string, any> } | undefined)?.properties ?? {};
    for (const [name, prop] of Object.entries(props)) if (ints.has(name) && prop.type === 'number') prop.type = 'integer';
  }
}

/** A profile: the same document with only some operations (read-only, or one area). */
export function profileOf(doc: OpenAPIObject, profile: Profile): OpenAPIObject {
  const keep = (operationId: string | undefined) => {
    const op = operationId ? findOperation(operationId) : undefined;
    if (!op) return false;
    // The read-only list is what ordinary users' small models get in every request, on a tight token
    // budget; a panel (an answer for the user's eyes) is in the full spec and the hosts profile.
    return profile === 'readonly' ? op.scope === 'read' : op.area === profile;
  };
  const paths: OpenAPIObject['paths'] = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    const kept = Object.fromEntries(
      Object.entries(item).filter(
        ([, op]) => typeof op === 'object' && op !== null && 'operationId' in op && keep((op as { operationId?: string }).operationId),
      ),
    );
    if (Object.keys(kept).length) paths[path] = kept;
  }
  return withReachableSchemas({ ...doc, info: { ...doc.info, title: `${doc.info.title} (${profile})` }, paths });
}
