/** What every route handler shares: the request context, gin-like answers and request-body binding. */
import type http from 'node:http';
import { goDecodeError, goJson, jsonKind } from './go-wire.js';
import { modelKey } from './model-names.js';
import type { FakeModel, FakeOllamaState } from './types.js';

export type Handler = (ctx: Ctx) => Promise<void> | void;

export interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  text: string;
  state: FakeOllamaState;
  /** True once the client has gone away before we finished. */
  gone: () => boolean;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = goJson(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A handler that writes nothing: Go answers 200 with an empty body and no content type. */
export function sendEmpty(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

/**
 * gin's ShouldBindJSON: empty body → `missing request body`; bad JSON → Go's decoder text; a field of the
 * wrong type → `json: cannot unmarshal …`; unknown fields ignored. Returns undefined after answering 400.
 */
export function decode(ctx: Ctx, struct: string, fields: { strings?: string[]; bools?: string[] }): Record<string, unknown> | undefined {
  if (ctx.text.trim() === '') {
    sendJson(ctx.res, 400, { error: 'missing request body' });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.text);
  } catch {
    sendJson(ctx.res, 400, { error: goDecodeError(ctx.text) });
    return undefined;
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    sendJson(ctx.res, 400, { error: `json: cannot unmarshal ${jsonKind(parsed)} into Go value of type api.${struct}` });
    return undefined;
  }
  const obj = parsed as Record<string, unknown>;
  for (const [list, type] of [
    [fields.strings ?? [], 'string'],
    [fields.bools ?? [], 'bool'],
  ] as const) {
    for (const f of list) {
      const v = obj[f];
      if (v === undefined || v === null || jsonKind(v) === type) continue;
      sendJson(ctx.res, 400, { error: `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${f} of type ${type}` });
      return undefined;
    }
  }
  return obj;
}

/** `cmp.Or(r.Model, r.Name)`. */
export function nameOf(body: Record<string, unknown>): string {
  return (typeof body.model === 'string' && body.model) || (typeof body.name === 'string' && body.name) || '';
}

export function findModel(state: FakeOllamaState, name: string): FakeModel | undefined {
  const key = modelKey(name);
  return key ? state.models.get(key) : undefined;
}
