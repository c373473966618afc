/** The HTTP server: the route table, request logging, hang / down switches and gin's 404 / 405 answers. */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { newState, seedState } from './catalogue.js';
import { handleCreate } from './create.js';
import { handleGenerate } from './generate.js';
import { type Ctx, type Handler, sendJson, sendText } from './http.js';
import { handleBlob, handleCopy, handleDelete, handlePs, handleRoot, handleShow, handleTags, handleVersion } from './model-routes.js';
import { handlePull } from './streams.js';
import type { FakeOllama, FakeOllamaOptions, FakeOllamaState } from './types.js';

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: handleRoot, HEAD: handleRoot },
  '/api/version': { GET: handleVersion, HEAD: handleVersion },
  '/api/tags': { GET: handleTags, HEAD: handleTags },
  '/api/ps': { GET: handlePs },
  '/api/pull': { POST: handlePull },
  '/api/show': { POST: handleShow },
  '/api/copy': { POST: handleCopy },
  '/api/delete': { DELETE: handleDelete },
  '/api/create': { POST: handleCreate },
  '/api/generate': { POST: handleGenerate },
};

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const state = newState();
  if (!options.empty) seedState(state);
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    void dispatch(state, req, res);
  });
  server.on('connection', (s) => {
    state.connections.push({ remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, at: Date.now() });
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  const port = await listen(options.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    port,
    state,
    setDown: close,
    setUp: async () => {
      await listen(port);
    },
    stop: close,
  };
}

async function dispatch(state: FakeOllamaState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const path = new URL(req.url ?? '/', 'http://fake').pathname;
  let body: unknown;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  state.requests.push({ method: req.method ?? 'GET', path, headers: { ...req.headers }, body, at: Date.now() });

  // Hang: the connection stays open and unanswered until the client or stop() closes it.
  if (state.hang) return;

  let closedEarly = false;
  res.on('close', () => {
    if (!res.writableEnded) closedEarly = true;
  });
  const ctx: Ctx = { req, res, text, state, gone: () => closedEarly || res.destroyed };

  const blob = /^\/api\/blobs\/(sha256[:-][0-9a-f]{64})$/.exec(path);
  if (blob) return handleBlob(ctx, (blob[1] as string).replace('-', ':'));

  const route = ROUTES[path];
  if (!route) return sendText(res, 404, '404 page not found');
  const handler = route[req.method ?? 'GET'];
  if (!handler) {
    res.setHeader('Allow', Object.keys(route).join(', '));
    return sendText(res, 405, '405 method not allowed');
  }
  try {
    await handler(ctx);
  } catch (err) {
    if (!res.headersSent) sendJson(res, 500, { error: `fake-ollama: ${(err as Error).message}` });
    else res.destroy();
  }
}
