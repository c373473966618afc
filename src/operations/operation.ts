import { applyDecorators, Get, HttpCode, Post, SetMetadata, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Scope } from '../config/config.types.js';
import { ErrorResponse } from '../common/error-response.dto.js';

export type Area = 'hosts' | 'gpu' | 'ollama' | 'shell' | 'files';
export const AREAS: readonly Area[] = ['hosts', 'gpu', 'ollama', 'shell', 'files'];

/**
 * One operation of the product, defined once. The REST controller method, the OpenAPI operation and
 * the MCP tool are all built from this object, so their names, descriptions, input schemas and scopes
 * cannot drift apart. `id` is also the name of the controller method and the service method.
 */
export interface OperationDef {
  id: string;
  area: Area;
  method: 'GET' | 'POST';
  /** Express-style path; `:name` segments are path parameters (declared in `params`). */
  path: string;
  scope: Scope;
  summary: string;
  /** Written for a model: what it does, when to use it, what it returns. */
  description: string;
  /** Query (GET) or body (POST) DTO class. */
  input: Type<object>;
  /** Path parameter DTO class, when the path has `:name` segments. */
  params?: Type<object>;
  output: Type<object>;
  /** The provider whose method named `id` does the work (MCP calls it directly). */
  service: Type<object>;
  /** MCP tool annotations; readOnly defaults to scope === 'read'. */
  destructive?: boolean;
  idempotent?: boolean;
  /** Long-running operation that reports progress (MCP progress notifications). */
  progress?: boolean;
  /** Audit each call (all write and shell operations). */
  audited?: boolean;
  /**
   * The REST answer is an HTML page for the user (text/html, shown inline), not JSON for the model.
   * The service then returns a PresentedResult: REST sends its `html()`, MCP its `text` and `structured`.
   */
  html?: boolean;
  /** MCP Apps: the `ui://` resource that renders this tool's results in clients that support it. */
  uiResourceUri?: string;
}

/** What an `html` operation's service method returns: one answer for each surface. */
export interface PresentedResult {
  /** The self-contained page REST answers; a function, so that MCP calls, which never send it, do not build it. */
  html: () => string;
  /** The MCP text content: a summary for clients that show no UI (and for the model). */
  text: string;
  /** MCP structuredContent, for the UI resource that renders the result. */
  structured: Record<string, unknown>;
}

/** A `ui://` resource served over MCP (resources/list, resources/read), e.g. an MCP App's view. */
export interface UiResourceDef {
  uri: string;
  name: string;
  description: string;
  mimeType: string;
  /** The resource's text (an HTML document); built on first read. */
  text: () => string;
}

const uiResources = new Map<string, UiResourceDef>();

export function defineUiResource(def: UiResourceDef): UiResourceDef {
  if (uiResources.has(def.uri)) throw new Error(`UI resource ${def.uri} defined twice`);
  uiResources.set(def.uri, def);
  return def;
}

export const uiResourceList = (): UiResourceDef[] => [...uiResources.values()];
export const findUiResource = (uri: string): UiResourceDef | undefined => uiResources.get(uri);

/** OpenAPI path template ("/ollama/jobs/{job_id}") of an operation's Express route path ("/ollama/jobs/:job_id"). */
export const openApiPath = (op: Pick<OperationDef, 'path'>) => op.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const registry = new Map<string, OperationDef>();

export function defineOperation<T extends OperationDef>(def: T): T {
  if (registry.has(def.id)) throw new Error(`operation ${def.id} defined twice`);
  registry.set(def.id, { audited: def.scope !== 'read', ...def });
  return registry.get(def.id) as T;
}

/** All operations, in definition order (module import order). */
export const operations = (): OperationDef[] => [...registry.values()];
export const findOperation = (id: string): OperationDef | undefined => registry.get(id);

export const OPERATION_KEY = 'ght:operation';
export const PUBLIC_KEY = 'ght:public';

/** Marks a route that needs no key (health, spec, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

const ERROR_STATUSES: Array<[number, string]> = [
  [400, 'Invalid input; the message lists each bad field.'],
  [401, 'Missing or wrong API key.'],
  [403, 'The key lacks the scope, or the request is refused by policy (path outside root, command denied).'],
  [404, 'Unknown host, model, file or job.'],
  [502, 'Ollama answered with an error or is unreachable.'],
  [503, 'The host is unreachable over SSH, refused the key or host key, or its GPU is unavailable.'],
  [504, 'The host or Ollama did not answer in time.'],
];

/** Applies route, OpenAPI and scope metadata for an operation to a controller method. */
export function Operation(def: OperationDef): MethodDecorator {
  const route = def.method === 'GET' ? Get(def.path) : Post(def.path);
  return applyDecorators(
    route,
    HttpCode(200),
    SetMetadata(OPERATION_KEY, def),
    ApiTags(def.area),
    ApiBearerAuth(),
    ApiOperation({ operationId: def.id, summary: def.summary, description: def.description }),
    ApiOkResponse({ type: def.output, description: 'Success.' }),
    ApiExtension('x-required-scope', def.scope),
    ...ERROR_STATUSES.map(([status, description]) => ApiResponse({ status, description, type: ErrorResponse })),
  );
}
