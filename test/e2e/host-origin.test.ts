import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { call, jsonOrUndefined, runCli, startServer, type RunningServer } from '../support/server.js';

/**
 * DNS rebinding and CSRF against every route the server answers. Requests go through node:http:
 * fetch replaces a Host header it is given. The foreign names are header values only; every byte
 * goes to the server on 127.0.0.1.
 */

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';
const CORS_ORIGIN = 'http://openwebui.lan:3000';
/** Tests that send hundreds of requests get room on a loaded machine (a budget, not an assertion). */
const EVERY_ROUTE_BUDGET_MS = 180_000;

interface RawAnswer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

interface Route {
  method: string;
  path: string;
  body?: string;
}

function raw(base: string, route: Route, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(route.path, base), { method: route.method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        resolve({ status: res.statusCode!, body: jsonOrUndefined(text), headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(route.body);
  });
}

/** Runs the requests a few at a time (2 shared cores), keeping their order in the result. */
async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>, width = 8): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

const MCP_INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * Every route: each operation in the spec (with an unknown field, so that an accepted call is a 400
 * before it touches a host), /mcp, Swagger UI and every asset its page loads, the spec and its
 * profiles, /metrics, the probes, the dashboard, and routes that do not exist.
 */
async function everyRoute(base: string): Promise<Route[]> {
  const doc = (await call(base, 'GET', '/openapi.json')).body;
  const routes: Route[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    const concrete = path.replace(/\{[^}]+\}/g, 'x');
    for (const method of Object.keys(item)) {
      routes.push(
        method === 'get'
          ? { method: 'GET', path: `${concrete}?__probe=1` }
          : { method: method.toUpperCase(), path: concrete, body: '{"__probe":1}' },
      );
    }
  }
  const docsPage = (await call(base, 'GET', '/docs')).text;
  const assets = [...docsPage.matchAll(/(?:src|href)="\.\/(docs\/[^"]+)"/g)].map((m) => `/${m[1]}`);
  expect(assets.length).toBeGreaterThanOrEqual(4);
  // The dashboard's page and scripts (its event stream is tried in dashboard.test.ts: an accepted one
  // stays open).
  const dashboard = ['/', '/dashboard/app.js', '/dashboard/uplot.js', '/dashboard/uplot.css'];
  for (const path of [
    '/docs',
    '/docs/',
    ...assets,
    '/docs/oauth2-redirect.html',
    '/openapi.json',
    '/metrics',
    '/healthz',
    '/readyz',
    ...dashboard,
  ])
    routes.push({ method: 'GET', path });
  for (const profile of ['readonly', 'hosts', 'gpu', 'ollama', 'shell', 'files'])
    routes.push({ method: 'GET', path: `/openapi/${profile}.json` });
  routes.push(
    { method: 'POST', path: '/mcp', body: MCP_INIT },
    { method: 'GET', path: '/mcp' },
    { method: 'DELETE', path: '/mcp' },
    { method: 'GET', path: '/no-such-route' },
    { method: 'POST', path: '/no-such-route', body: '{}' },
    { method: 'PUT', path: '/healthz', body: '{}' },
    { method: 'HEAD', path: '/healthz' },
  );
  return routes;
}

/** Host values that name this machine however a client spells them. */
const LOOPBACK_HOSTS = (port: number) => [
  `127.0.0.1:${port}`,
  `localhost:${port}`,
  `LOCALHOST:${port}`,
  `localhost.:${port}`,
  'localhost',
  `127.5.6.7:${port}`,
  `[::1]:${port}`,
  // Other spellings of ::1 ([0:0::1], [::ffff:127.0.0.1]) pass the check too (unit test), but the MCP
  // transport refuses a Host that is not in its shortest form, as browsers write it.
];

/** Host values an attacker's DNS can point at 127.0.0.1, and other machines. */
const FOREIGN_HOSTS = (port: number) => [
  `attacker.example:${port}`,
  'attacker.example',
  `ATTACKER.example.:${port}`,
  `127.attacker.example:${port}`,
  `127.0.0.1.attacker.example:${port}`,
  `localhost.attacker.example:${port}`,
  `192.0.2.2:${port}`,
  `[::2]:${port}`,
  `[fe80::1]:${port}`,
  `0.0.0.0:${port}`,
];

/** Values that are no Host at all: a 400 whatever the keys. */
const MALFORMED_HOSTS = (port: number) => [
  '[::1',
  `localhost:${port}x`,
  'http://localhost',
  'localhost..',
  `[fe80::1%25eth0]:${port}`,
  'a b',
];

const FOREIGN_ORIGINS = (port: number) => [
  `http://attacker.example:${port}`,
  `http://localhost:${port + 1}`,
  `https://127.0.0.1:${port}.attacker.example`,
  'null',
  'http://openwebui.lan:3001',
];

const label = (r: Route) => `${r.method} ${r.path}`;

/** The status and code each route gives a normal loopback client: an accepted request must match it. */
async function baseline(base: string, routes: Route[], extra: Record<string, string> = {}) {
  const port = Number(new URL(base).port);
  const answers = await inBatches(routes, (r) => raw(base, r, { ...JSON_HEADERS, ...extra, host: `127.0.0.1:${port}` }));
  for (const [i, a] of answers.entries())
    expect([403].includes(a.status) && /_NOT_ALLOWED$/.test(a.body?.code), label(routes[i])).toBe(false);
  return answers.map((a) => a.status);
}

async function expectAccepted(base: string, routes: Route[], expected: number[], headers: Record<string, string>) {
  const answers = await inBatches(routes, (r) => raw(base, r, { ...JSON_HEADERS, ...headers }));
  answers.forEach((a, i) => expect(a.status, `${label(routes[i])} with ${JSON.stringify(headers)}`).toBe(expected[i]));
}

const REFUSALS = {
  HOST_NOT_ALLOWED: { status: 403, error: 'Forbidden', says: 'ALLOWED_HOSTS' },
  ORIGIN_NOT_ALLOWED: { status: 403, error: 'Forbidden', says: 'CORS_ORIGINS' },
  VALIDATION_FAILED: { status: 400, error: 'Bad Request', says: 'The Host header' },
};

async function expectRefused(base: string, routes: Route[], headers: Record<string, string>, code: keyof typeof REFUSALS) {
  const { status, error, says } = REFUSALS[code];
  const answers = await inBatches(routes, (r) => raw(base, r, { ...JSON_HEADERS, ...headers }));
  answers.forEach((a, i) => {
    const what = `${label(routes[i])} with ${JSON.stringify(headers)}`;
    expect(a.status, what).toBe(status);
    if (routes[i].method !== 'HEAD') {
      expect(a.body, what).toEqual({ statusCode: status, error, code, message: expect.any(String) });
      expect(a.body.message).toContain(says);
    }
  });
}

describe('Host and Origin without keys (loopback, the quick start)', () => {
  let server: RunningServer;
  let dir: string;
  let port: number;
  let routes: Route[];
  let expected: number[];

  beforeAll(async () => {
    dir = mkdtempSync(`${tmpdir()}/ght-host-origin-`);
    server = await startServer({ FILES_ROOT: dir, ALLOWED_HOSTS: 'gpu-host-tools:8000,tools.lan', CORS_ORIGINS: CORS_ORIGIN });
    port = Number(new URL(server.url).port);
    routes = await everyRoute(server.url);
    expected = await baseline(server.url, routes);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers every operation of the spec and the other routes', () => {
    expect(routes.filter((r) => r.method === 'POST').length).toBeGreaterThan(10);
    expect(routes.length).toBeGreaterThan(40);
    // The baseline is what the routes really answer: probes and pages work, probed operations are 400s.
    expect(expected[routes.findIndex((r) => r.path === '/healthz')]).toBe(200);
    expect(expected[routes.findIndex((r) => r.path === '/docs/swagger-ui-bundle.js')]).toBe(200);
    expect(expected[routes.findIndex((r) => r.path === '/shell/exec')]).toBe(400);
    expect(expected[routes.findIndex((r) => r.path === '/no-such-route')]).toBe(404);
  });

  it(
    'refuses a foreign Host on every route, whatever the method',
    async () => {
      for (const host of FOREIGN_HOSTS(port)) await expectRefused(server.url, routes, { host }, 'HOST_NOT_ALLOWED');
      // An ALLOWED_HOSTS entry with a port allows that port only.
      await expectRefused(server.url, routes, { host: 'gpu-host-tools:8001' }, 'HOST_NOT_ALLOWED');
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it(
    'answers 400 to a Host header that is no host at all, on every route',
    async () => {
      for (const host of MALFORMED_HOSTS(port)) await expectRefused(server.url, routes, { host }, 'VALIDATION_FAILED');
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it(
    'accepts loopback names in every spelling, and ALLOWED_HOSTS, on every route',
    async () => {
      for (const host of [...LOOPBACK_HOSTS(port), 'gpu-host-tools:8000', 'tools.lan', `TOOLS.LAN.:${port}`])
        await expectAccepted(server.url, routes, expected, { host });
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it('refuses the reproduced rebinding: POST /shell/exec with Host and Origin attacker.example runs nothing', async () => {
    const marker = `${dir}/rebinding-ran`;
    const exec = { method: 'POST', path: '/shell/exec', body: JSON.stringify({ command: `touch ${marker}` }) };
    const refused = await raw(server.url, exec, {
      ...JSON_HEADERS,
      host: `attacker.example:${port}`,
      origin: `http://attacker.example:${port}`,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('HOST_NOT_ALLOWED');
    const csrf = await raw(server.url, exec, { ...JSON_HEADERS, host: `127.0.0.1:${port}`, origin: 'http://attacker.example' });
    expect(csrf.body.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(existsSync(marker)).toBe(false);
    // The same call from the server's own origin runs: the refusals above were not for another reason.
    const own = await raw(server.url, exec, { ...JSON_HEADERS, host: `localhost:${port}`, origin: `http://localhost:${port}` });
    expect(own.status).toBe(200);
    expect(existsSync(marker)).toBe(true);
  });

  it(
    'refuses a foreign Origin on every route that is not GET or HEAD, and lets GET and HEAD through',
    async () => {
      const writes = routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
      const reads = routes.filter((r) => r.method === 'GET' || r.method === 'HEAD');
      const readStatuses = expected.filter((_, i) => routes[i].method === 'GET' || routes[i].method === 'HEAD');
      expect(writes.some((r) => r.path === '/mcp')).toBe(true);
      for (const origin of FOREIGN_ORIGINS(port)) {
        await expectRefused(server.url, writes, { host: `127.0.0.1:${port}`, origin }, 'ORIGIN_NOT_ALLOWED');
        await expectAccepted(server.url, reads, readStatuses, { host: `127.0.0.1:${port}`, origin });
      }
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it(
    "accepts the server's own origin and CORS_ORIGINS on every route",
    async () => {
      for (const [host, origin] of [
        [`127.0.0.1:${port}`, `http://127.0.0.1:${port}`],
        [`localhost:${port}`, `http://localhost:${port}`],
        [`[::1]:${port}`, `http://[::1]:${port}`],
        ['tools.lan', 'http://tools.lan'],
        [`127.0.0.1:${port}`, CORS_ORIGIN],
      ])
        await expectAccepted(server.url, routes, expected, { host, origin });
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it('answers a CORS preflight from CORS_ORIGINS, and refuses one from another origin', async () => {
    for (const path of ['/shell/exec', '/mcp', '/files/write']) {
      const preflight = { method: 'OPTIONS', path };
      const ok = await raw(server.url, preflight, {
        host: `127.0.0.1:${port}`,
        origin: CORS_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      });
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe(CORS_ORIGIN);
      expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
      const foreign = await raw(server.url, preflight, {
        host: `127.0.0.1:${port}`,
        origin: 'http://attacker.example',
        'access-control-request-method': 'POST',
      });
      expect(foreign.status).toBe(403);
      expect(foreign.body.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    }
    // The actual cross-origin call from CORS_ORIGINS carries the header the browser needs to read it.
    const res = await raw(server.url, { method: 'GET', path: '/healthz' }, { host: `127.0.0.1:${port}`, origin: CORS_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(CORS_ORIGIN);
  });
});

describe('Host and Origin with keys', () => {
  let server: RunningServer;
  let narrowed: RunningServer;
  let dir: string;
  let port: number;
  let narrowedPort: number;
  let routes: Route[];
  let expected: number[];
  let narrowedExpected: number[];
  const auth = { authorization: `Bearer ${FULL}` };

  beforeAll(async () => {
    dir = mkdtempSync(`${tmpdir()}/ght-host-origin-keys-`);
    const env = { FILES_ROOT: dir, API_KEY: FULL, READONLY_API_KEY: READ };
    [server, narrowed] = await Promise.all([startServer(env), startServer({ ...env, ALLOWED_HOSTS: 'tools.lan:8000' })]);
    port = Number(new URL(server.url).port);
    narrowedPort = Number(new URL(narrowed.url).port);
    routes = await everyRoute(server.url);
    expected = await baseline(server.url, routes, auth);
    narrowedExpected = await baseline(narrowed.url, routes, auth);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), narrowed?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'accepts any Host when ALLOWED_HOSTS is not set: the key is the boundary',
    async () => {
      expect(expected[routes.findIndex((r) => r.path === '/metrics')]).toBe(200);
      for (const host of [...FOREIGN_HOSTS(port), ...LOOPBACK_HOSTS(port)])
        await expectAccepted(server.url, routes, expected, { host, ...auth });
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it('answers a LAN client such as Open WebUI at 192.0.2.2:8000 on REST and /mcp, and still wants the key', async () => {
    const host = '192.0.2.2:8000';
    const hosts = await raw(server.url, { method: 'GET', path: '/hosts' }, { host, ...auth });
    expect(hosts.status).toBe(200);
    expect(hosts.body.hosts[0].name).toBe('local');
    const mcp = await raw(server.url, { method: 'POST', path: '/mcp', body: MCP_INIT }, { ...JSON_HEADERS, host, ...auth });
    expect(mcp.status).toBe(200);
    const noKey = await raw(server.url, { method: 'GET', path: '/hosts' }, { host });
    expect(noKey.status).toBe(401);
    const mcpNoKey = await raw(server.url, { method: 'POST', path: '/mcp', body: MCP_INIT }, { ...JSON_HEADERS, host });
    expect(mcpNoKey.status).toBe(401);
  });

  it(
    'refuses a foreign Origin on every route that is not GET or HEAD, even with a valid key',
    async () => {
      const writes = routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
      for (const origin of FOREIGN_ORIGINS(port)) {
        await expectRefused(server.url, writes, { host: `127.0.0.1:${port}`, origin, ...auth }, 'ORIGIN_NOT_ALLOWED');
        await expectRefused(server.url, writes, { host: '192.0.2.2:8000', origin, ...auth }, 'ORIGIN_NOT_ALLOWED');
      }
      const marker = `${dir}/csrf-ran`;
      const exec = { method: 'POST', path: '/shell/exec', body: JSON.stringify({ command: `touch ${marker}` }) };
      const csrf = await raw(server.url, exec, { ...JSON_HEADERS, host: '192.0.2.2:8000', origin: 'http://attacker.example', ...auth });
      expect(csrf.body.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(existsSync(marker)).toBe(false);
      // Open WebUI's browser page served from the server's own LAN name is same-origin.
      const own = await raw(server.url, exec, { ...JSON_HEADERS, host: '192.0.2.2:8000', origin: 'http://192.0.2.2:8000', ...auth });
      expect(own.status).toBe(200);
      expect(existsSync(marker)).toBe(true);
    },
    EVERY_ROUTE_BUDGET_MS,
  );

  it(
    'with ALLOWED_HOSTS accepts only loopback names and those entries, on every route',
    async () => {
      for (const host of ['tools.lan:8000', 'Tools.Lan.:8000', ...LOOPBACK_HOSTS(narrowedPort)])
        await expectAccepted(narrowed.url, routes, narrowedExpected, { host, ...auth });
      for (const host of ['tools.lan:8001', 'tools.lan', '192.0.2.2:8000', ...FOREIGN_HOSTS(narrowedPort)])
        await expectRefused(narrowed.url, routes, { host, ...auth }, 'HOST_NOT_ALLOWED');
    },
    EVERY_ROUTE_BUDGET_MS,
  );
});

describe('ALLOWED_HOSTS at start-up', () => {
  it('a malformed entry stops the server with one line naming ALLOWED_HOSTS', async () => {
    for (const value of ['http://tools.lan:8000', 'tools.lan/mcp', 'tools lan', 'tools.lan,,other']) {
      const { code, stdout, stderr } = await runCli(['serve'], { PORT: '0', ALLOWED_HOSTS: value });
      expect(code, value).toBe(1);
      expect(stdout).not.toContain('listening');
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^gpu-host-tools: configuration error: ALLOWED_HOSTS: ".*" is not a host name/);
    }
  });
});
