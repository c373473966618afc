import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { AREAS, findOperation, openApiPath, operations } from '../common/operation.js';
import { withReachableSchemas } from './reachable-schemas.js';

export const PROFILES = ['readonly', ...AREAS] as const;
export type Profile = (typeof PROFILES)[number];

const DESCRIPTION = `Manage a GPU host from a chat: GPU status (nvidia-smi), host resources, Ollama models, shell commands and files.
Every operation takes an optional \`host\` (see list_hosts). Errors are JSON objects {statusCode, error, code, message} whose message says what to do.`;

/** Builds the OpenAPI document from the running application's controllers (never dials a host). */
export function buildOpenApi(app: INestApplication, version: string): OpenAPIObject {
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
  return doc;
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
