/**
 * The NDJSON streams of pull (and of create, which shares runStream and pulls a missing base), with their
 * pacing (`pullDelayMs`, `pullChunksPerLayer`) and fault injection (stall, mid-stream error, cancel log).
 */
import { addModel } from './catalogue.js';
import { goJson, goTime, sha256Hex } from './go-wire.js';
import { type Ctx, decode, nameOf, sendJson } from './http.js';
import { displayName, modelKey, parseModelName } from './model-names.js';
import type { FakeCancel } from './types.js';

export type StreamItem = Record<string, unknown> | { error: string; status?: number };

export const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/**
 * streamResponse / waitForStream of routes.go: lines go out as NDJSON; an error before anything was written
 * becomes a JSON answer with its status (default 500), after that a final `{"error":…}` line under 200.
 * With `stream:false` the last progress object (or the error with its status) is the single answer.
 */
export async function runStream(
  ctx: Ctx,
  stream: boolean,
  kind: FakeCancel['kind'],
  model: string,
  items: AsyncGenerator<StreamItem>,
): Promise<void> {
  const { res, state } = ctx;
  let written = 0;
  let last: StreamItem | undefined;
  for await (const item of items) {
    if (ctx.gone()) {
      state.cancelled.push({ kind, model, linesSent: written, at: Date.now() });
      return;
    }
    if ('error' in item && typeof item.error === 'string') {
      const status = typeof item.status === 'number' ? item.status : 500;
      if (!stream || written === 0) return sendJson(res, status, { error: item.error });
      res.end(`${goJson({ error: item.error })}\n`);
      return;
    }
    last = item;
    if (!stream) continue;
    if (written === 0) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.write(`${goJson(item)}\n`);
    written++;
    if (state.stallAfterLines !== null && written >= state.stallAfterLines) {
      // Silent but open, like a server stuck on a slow disk; only the client's timeout ends this.
      await new Promise<void>((resolve) => res.once('close', () => resolve()));
      state.cancelled.push({ kind, model, linesSent: written, at: Date.now() });
      return;
    }
  }
  if (ctx.gone()) {
    state.cancelled.push({ kind, model, linesSent: written, at: Date.now() });
    return;
  }
  if (!stream) return sendJson(res, 200, last ?? { status: 'success' });
  res.end();
}

/** The download part of a pull, shared with create-from-a-missing-base. Returns false after an error item. */
export async function* pullLines(ctx: Ctx, name: string, withSuccess: boolean): AsyncGenerator<StreamItem> {
  const { state } = ctx;
  const key = modelKey(name) as string;
  yield { status: 'pulling manifest' };
  await sleep(state.pullDelayMs);
  const reg = state.registry.get(key);
  if (!reg) {
    yield { error: 'pull model manifest: file does not exist' };
    return;
  }
  const injected = state.midStreamError.get(key);
  for (const [index, l] of reg.layers.entries()) {
    const hex12 = l.digest.slice(7, 19);
    const status = `pulling ${hex12}`;
    const blob = state.blobs.get(l.digest) ?? { size: l.size, completed: 0 };
    state.blobs.set(l.digest, blob);
    if (blob.completed >= l.size) {
      yield { status, digest: l.digest, total: l.size, completed: l.size };
    } else {
      // `completed` is omitempty: absent while 0.
      yield blob.completed > 0
        ? { status, digest: l.digest, total: l.size, completed: blob.completed }
        : { status, digest: l.digest, total: l.size };
      const step = Math.max(1, Math.ceil((l.size - blob.completed) / Math.max(1, state.pullChunksPerLayer)));
      while (blob.completed < l.size) {
        await sleep(state.pullDelayMs);
        if (ctx.gone()) return;
        blob.completed = Math.min(l.size, blob.completed + step);
        yield { status, digest: l.digest, total: l.size, completed: blob.completed };
      }
    }
    if (index === 0 && injected !== undefined) {
      yield { error: injected };
      return;
    }
  }
  yield { status: 'verifying sha256 digest' };
  yield { status: 'writing manifest' };
  const existing = state.models.get(key);
  if (existing && existing.layers.some((l) => !reg.layers.some((r) => r.digest === l.digest))) {
    yield { status: 'removing unused layers' };
  }
  addModel(state, {
    name: displayName(name),
    modified_at: goTime(),
    digest: sha256Hex(`${key}/${reg.layers.map((l) => l.digest).join(',')}`),
    size: reg.layers.reduce((a, l) => a + l.size, 0),
    details: { ...reg.details },
    layers: reg.layers.map((l) => ({ ...l })),
    template: reg.template,
    system: reg.system,
    parameters: reg.parameters ? structuredClone(reg.parameters) : undefined,
    license: reg.license ? [...reg.license] : undefined,
    capabilities: reg.capabilities,
    model_info: reg.model_info,
  });
  if (withSuccess) yield { status: 'success' };
}

export async function handlePull(ctx: Ctx): Promise<void> {
  const body = decode(ctx, 'PullRequest', { strings: ['model', 'name', 'username', 'password'], bools: ['stream', 'insecure'] });
  if (!body) return;
  const name = nameOf(body);
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: 'invalid model name' });
  await runStream(ctx, body.stream !== false, 'pull', name, pullLines(ctx, name, true));
}
