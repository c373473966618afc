/** The routes that answer at once: root, version, tags, ps, show, copy, delete and blobs. */
import { createHash } from 'node:crypto';
import { addModel } from './catalogue.js';
import { goTime } from './go-wire.js';
import { type Ctx, decode, findModel, nameOf, sendEmpty, sendJson, sendText } from './http.js';
import { displayName, modelKey, parseModelName } from './model-names.js';
import { listEntry, showBody } from './model-views.js';

// --- simple reads -----------------------------------------------------------------------------------

export function handleRoot(ctx: Ctx): void {
  sendText(ctx.res, 200, 'Ollama is running');
}

export function handleVersion(ctx: Ctx): void {
  sendJson(ctx.res, 200, { version: ctx.state.version });
}

export function handleTags(ctx: Ctx): void {
  const models = [...ctx.state.models.values()].sort((a, b) => Date.parse(b.modified_at) - Date.parse(a.modified_at)).map(listEntry);
  sendJson(ctx.res, 200, { models });
}

export function handlePs(ctx: Ctx): void {
  const models = [...ctx.state.loaded.values()]
    .sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at))
    .map((l) => ({
      name: l.model.name,
      model: l.model.name,
      size: l.size,
      digest: l.model.digest,
      details: l.model.details,
      expires_at: l.expires_at,
      size_vram: l.size_vram,
      context_length: l.context_length,
    }));
  sendJson(ctx.res, 200, { models });
}

export function handleShow(ctx: Ctx): void {
  const body = decode(ctx, 'ShowRequest', { strings: ['model', 'name', 'system', 'template'], bools: ['verbose'] });
  if (!body) return;
  const name = nameOf(body);
  if (name === '') return sendJson(ctx.res, 400, { error: 'model is required' });
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: 'invalid model name' });
  const m = findModel(ctx.state, name);
  if (!m) return sendJson(ctx.res, 404, { error: `model '${name}' not found` });
  sendJson(ctx.res, 200, showBody(ctx.state, m));
}

// --- copy / delete ----------------------------------------------------------------------------------

export function handleCopy(ctx: Ctx): void {
  const body = decode(ctx, 'CopyRequest', { strings: ['source', 'destination'] });
  if (!body) return;
  const source = typeof body.source === 'string' ? body.source : '';
  const destination = typeof body.destination === 'string' ? body.destination : '';
  if (!parseModelName(source)) return sendJson(ctx.res, 400, { error: `source ${JSON.stringify(source)} is invalid` });
  if (!parseModelName(destination)) {
    return sendJson(ctx.res, 400, { error: `destination ${JSON.stringify(destination)} is invalid` });
  }
  const src = findModel(ctx.state, source);
  if (!src) return sendJson(ctx.res, 404, { error: `model ${JSON.stringify(source)} not found` });
  addModel(ctx.state, { ...structuredClone(src), name: displayName(destination), modified_at: goTime() });
  sendEmpty(ctx.res);
}

export function handleDelete(ctx: Ctx): void {
  const body = decode(ctx, 'DeleteRequest', { strings: ['model', 'name'] });
  if (!body) return;
  const name = nameOf(body);
  if (name === '') return sendJson(ctx.res, 400, { error: 'model is required' });
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: `name ${JSON.stringify(name)} is invalid` });
  const key = modelKey(name) as string;
  const m = ctx.state.models.get(key);
  if (!m) return sendJson(ctx.res, 404, { error: `model '${name}' not found` });
  ctx.state.models.delete(key);
  // Blobs still referenced by another model survive, like RemoveLayers.
  const used = new Set([...ctx.state.models.values()].flatMap((x) => x.layers.map((l) => l.digest)));
  for (const l of m.layers) if (!used.has(l.digest)) ctx.state.blobs.delete(l.digest);
  sendEmpty(ctx.res);
}

// --- blobs --------------------------------------------------------------------------------------------

export function handleBlob(ctx: Ctx, digest: string): void {
  const { req, res, state } = ctx;
  if (req.method === 'HEAD') {
    const b = state.blobs.get(digest);
    res.writeHead(b && b.completed >= b.size ? 200 : 404, { 'Content-Length': 0 });
    return void res.end();
  }
  if (req.method === 'POST') {
    const actual = `sha256:${createHash('sha256').update(ctx.text).digest('hex')}`;
    if (actual !== digest) return sendJson(res, 400, { error: 'digest mismatch' });
    const size = Buffer.byteLength(ctx.text);
    state.blobs.set(digest, { size, completed: size });
    res.writeHead(201, { 'Content-Length': 0 });
    return void res.end();
  }
  res.setHeader('Allow', 'HEAD, POST');
  sendText(res, 405, '405 method not allowed');
}
