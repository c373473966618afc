/**
 * The live dashboard at / and show_panel, in Debian's chromium (playwright-core), against the built server,
 * the shared real sshd, a private fake nvidia-smi and the fake Ollama (reached through the SSH tunnel).
 *
 * Screenshots go to this file's temp directory; with SCREENSHOTS_DIR set (npm run screenshots) they are
 * also copied there (docs/screenshots in the repository).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { call, sshEnv, startServer, type RunningServer } from '../support/server.js';
import { sharedSshd } from '../support/context.js';
import { privateNvidiaSmi } from '../support/fake-nvidia-smi.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { launchChromium } from '../support/browser.js';
import { connectMcp } from '../support/mcp-client.js';

const FULL = 'dashboard-full-key-0123456789';
const READ = 'dashboard-read-key-0123456789';
const CAPTURE = 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05';
const CORS_ORIGIN = 'http://owui.test:8080';

/** Polls until the matcher holds: the GPU sampler, the stream and the browser each take their time on a busy machine. */
const eventually = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

/** Status and code of a GET with a Host header of our choosing (fetch cannot set Host); the body is not waited for. */
function getWithHost(base: string, path: string, host: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers: { host } }, (res) => {
      if (res.statusCode === 200) {
        res.destroy();
        return resolve({ status: 200 });
      }
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, code: JSON.parse(text).code }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard behind the Host/Origin guard', () => {
  it('without keys: only loopback names reach /, its files and its stream (DNS rebinding); ALLOWED_HOSTS lets a proxy name in', async () => {
    const open = await startServer({});
    const proxied = await startServer({ API_KEY: FULL, ALLOWED_HOSTS: 'gpu.lan' });
    try {
      const port = new URL(open.url).port;
      for (const path of ['/', '/dashboard/app.js', '/dashboard/uplot.js', '/dashboard/events', '/panel']) {
        expect([path, await getWithHost(open.url, path, `attacker.example:${port}`)]).toEqual([
          path,
          { status: 403, code: 'HOST_NOT_ALLOWED' },
        ]);
        expect([path, (await getWithHost(open.url, path, `127.0.0.1:${port}`)).status]).toEqual([path, 200]);
      }
      const pport = new URL(proxied.url).port;
      expect(await getWithHost(proxied.url, '/', `gpu.lan:${pport}`)).toEqual({ status: 200 });
      expect(await getWithHost(proxied.url, '/', `attacker.example:${pport}`)).toEqual({ status: 403, code: 'HOST_NOT_ALLOWED' });
      expect(await getWithHost(proxied.url, '/dashboard/events', `gpu.lan:${pport}`)).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    } finally {
      await open.stop();
      await proxied.stop();
    }
  }, 60_000);
});

describe('show_panel for a host that cannot be reached', () => {
  it('answers the page with each part saying what failed (the SSH address and what to check), and the text fallback says the same', async () => {
    // A port nothing listens on: the connection is refused.
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const server = await startServer({ ...sshEnv({ ...sharedSshd(), port: closed }), API_KEY: FULL });
    try {
      const res = await call(server.url, 'GET', '/panel', { key: FULL, query: { panel: 'overview' } });
      expect(res.status).toBe(200);
      expect(res.text).toContain('<span class="badge bad">unreachable</span>');
      expect(res.text).toContain(
        `data-error="HOST_UNREACHABLE"><strong>HOST_UNREACHABLE</strong> SSH to ${sharedSshd().username}@127.0.0.1:${closed} was refused`,
      );
      expect(res.text).not.toMatch(/\bat .*\.(js|ts):\d+/); // no stack trace
      const { client, close } = await connectMcp(server.url, FULL);
      try {
        const result: any = await client.callTool({ name: 'show_panel', arguments: { panel: 'gpus' } });
        expect(result.content[0].text).toBe(
          `Panel "gpus" of host whisper, shown to the user.\nGPUs: HOST_UNREACHABLE: SSH to ${sharedSshd().username}@127.0.0.1:${closed} was refused (connection refused); check that sshd is running and the address and port are right.`,
        );
      } finally {
        await close();
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('dashboard and show_panel in chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let fake: FakeOllama;
  let nvidia: ReturnType<typeof privateNvidiaSmi>;
  let shots: string;
  let serverHost: string;

  const shot = async (page: Page, name: string, fullPage = true) => {
    const file = path.join(shots, name);
    await page.screenshot({ path: file, fullPage });
    if (process.env.SCREENSHOTS_DIR) {
      mkdirSync(process.env.SCREENSHOTS_DIR, { recursive: true });
      copyFileSync(file, path.join(process.env.SCREENSHOTS_DIR, name));
    }
  };

  /** A page that records console errors and every request, and refuses any request to another host. */
  const watchedPage = async (viewport = { width: 1280, height: 900 }) => {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    const foreign: string[] = [];
    const requested: string[] = [];
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // Chromium logs every 4xx as a console error; the stream's 401s are how the page learns it needs a key.
      if (/status of 401/.test(m.text()) && m.location().url.endsWith('/dashboard/events')) refused.push(m.text());
      else errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (new URL(url).host !== serverHost) {
        foreign.push(url);
        return route.abort();
      }
      return route.continue();
    });
    page.setDefaultTimeout(20_000);
    return { page, errors, refused, foreign, requested };
  };

  const gpuField = (page: Page, field: string) =>
    page.locator(`[data-host="whisper"] [data-gpu="0"] [data-field="${field}"]`).textContent();

  beforeAll(async () => {
    shots = mkdtempSync(path.join(tmpdir(), 'ght-dashboard-'));
    nvidia = privateNvidiaSmi(`${CAPTURE}__idle`);
    browser = await launchChromium();
    fake = await startFakeOllama();
    server = await startServer({
      ...sshEnv(sharedSshd()),
      NVIDIA_SMI_PATH: nvidia.path,
      OLLAMA_URL: fake.url,
      API_KEY: FULL,
      READONLY_API_KEY: READ,
      CORS_ORIGINS: CORS_ORIGIN,
    });
    serverHost = new URL(server.url).host;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await fake?.stop();
    if (nvidia) rmSync(nvidia.binDir, { recursive: true, force: true });
    if (shots) rmSync(shots, { recursive: true, force: true });
  });

  it('asks for a key, refuses a wrong one, then shows live numbers with the read-only key; GPU changes and a pull show up live', async () => {
    const { page, errors, refused, foreign, requested } = await watchedPage();
    try {
      await page.goto(`${server.url}/`);
      // With keys configured the stream answers 401 without one, and the page asks.
      await page.locator('#key-form').waitFor({ state: 'visible' });
      await page.fill('#key', 'not-a-key');
      await page.click('#key-form button[type=submit]');
      await eventually(() => page.locator('#key-note').textContent()).toContain('The API key is not valid');
      expect(await page.locator('#key-form').isVisible()).toBe(true);

      await page.fill('#key', READ);
      await page.click('#key-form button[type=submit]');
      await eventually(() => page.locator('#conn').textContent()).toBe('live');
      expect(await page.evaluate(() => sessionStorage.getItem('ght-dashboard-key'))).toBe(READ);
      expect(await page.evaluate(() => localStorage.getItem('ght-dashboard-key'))).toBeNull();

      // Idle numbers, equal to what gpu_status answers.
      const idle = (await call(server.url, 'GET', '/gpu/status', { key: READ })).body.gpus[0];
      await eventually(() => gpuField(page, 'utilization_percent')).toBe(`${idle.utilization_percent} %`);
      expect(await gpuField(page, 'temperature_celsius')).toBe(`${idle.temperature_celsius} °C`);
      await eventually(() => page.locator('[data-host="whisper"] [data-field="reachable"]').textContent()).toBe('reachable');
      await eventually(() => page.locator('[data-part="disks"] tr[data-mount="/"]').count()).toBe(1);
      await eventually(() => page.locator('[data-part="models"] tr[data-model="llama3.2:latest"]').count()).toBe(1);
      expect(await page.locator('tr[data-model="llama3.2:latest"] [data-field="unloads"]').textContent()).toMatch(/^in \d+ (s|min)$/);

      // The GPU double goes under load: the page follows without a reload.
      nvidia.setScenario(`${CAPTURE}__load`);
      // Keep the answer that showed the change: a sampler reading taken just before the switch can still
      // arrive after a direct one taken after it, so the next call may briefly answer the idle numbers.
      let load = idle;
      await eventually(async () => {
        load = (await call(server.url, 'GET', '/gpu/status', { key: READ })).body.gpus[0];
        return load.utilization_percent;
      }).not.toBe(idle.utilization_percent);
      await eventually(() => gpuField(page, 'utilization_percent')).toBe(`${load.utilization_percent} %`);
      await eventually(() => gpuField(page, 'temperature_celsius')).toBe(`${load.temperature_celsius} °C`);
      const memory = (await gpuField(page, 'memory'))!.replace(/,/g, '');
      expect(memory).toBe(`${load.memory_used_mb} / ${load.memory_total_mb} MiB`);

      // Charts: uPlot draws a canvas for each of the four lines.
      await eventually(() => page.locator('[data-host="whisper"] [data-gpu="0"] .chart canvas').count()).toBe(4);

      // A slow pull (write key, through the API): its bar moves on the page.
      fake.state.pullDelayMs = 150;
      fake.state.pullChunksPerLayer = 30;
      const pull = await call(server.url, 'POST', '/ollama/pull', { key: FULL, body: { model: 'gemma:2b', wait_seconds: 0 } });
      expect(pull.status).toBe(200);
      const jobBar = page.locator(`[data-job="${pull.body.job_id}"] [role=progressbar]`);
      const seen: number[] = [];
      await expect
        .poll(
          async () => {
            const v = await jobBar.getAttribute('aria-valuenow').catch(() => null);
            if (v !== null && Number(v) !== seen.at(-1)) seen.push(Number(v));
            return seen.length;
          },
          { timeout: 30_000, interval: 200 },
        )
        .toBeGreaterThanOrEqual(3);
      // It grew from one reading to the next while the first (big) layer downloaded.
      expect(seen[1]).toBeGreaterThan(seen[0]);
      expect(seen[2]).toBeGreaterThan(seen[1]);
      console.info(
        `dashboard saw utilization ${idle.utilization_percent} -> ${load.utilization_percent} %, ` +
          `temperature ${idle.temperature_celsius} -> ${load.temperature_celsius} °C, pull bar ${seen.join(' -> ')} %`,
      );
      await shot(page, 'dashboard.png');

      // Phone width: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await eventually(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await shot(page, 'dashboard-phone.png');

      const cancel = await call(server.url, 'POST', `/ollama/jobs/${pull.body.job_id}/cancel`, { key: FULL });
      expect(cancel.status).toBe(200);
      await eventually(() => page.locator(`[data-job="${pull.body.job_id}"]`).getAttribute('data-state')).toBe('cancelled');

      expect(errors).toEqual([]);
      // Two refusals: the first visit without a key, and the wrong key.
      expect(refused).toHaveLength(2);
      expect(foreign).toEqual([]);
      expect(requested.some((u) => u.endsWith('/dashboard/events'))).toBe(true);
      expect(requested.some((u) => u.endsWith('/dashboard/uplot.js'))).toBe(true);
    } finally {
      fake.state.pullDelayMs = 0;
      fake.state.pullChunksPerLayer = 4;
      await page.close();
    }
  }, 120_000);

  it('the stream needs a key with the read scope, like a read operation, and its pages are not tools in the spec', async () => {
    const none = await fetch(`${server.url}/dashboard/events`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const text = await page.text();
    expect(text).not.toContain('whisper'); // the public page holds no data
    const spec = (await call(server.url, 'GET', '/openapi.json')).body;
    expect(Object.keys(spec.paths).filter((p) => p === '/' || p.startsWith('/dashboard'))).toEqual([]);
    expect(spec.paths['/panel'].get.operationId).toBe('show_panel');
    expect(Object.keys(spec.paths['/panel'].get.responses['200'].content)).toEqual(['text/html']);
    // Panels are for users: not in the small models' read-only list, but in the hosts profile.
    expect((await call(server.url, 'GET', '/openapi/readonly.json')).body.paths['/panel'].get.operationId).toBe('show_panel');
    expect((await call(server.url, 'GET', '/openapi/hosts.json')).body.paths['/panel'].get.operationId).toBe('show_panel');
  });

  it('show_panel answers text/html inline (exposed through CORS); bad input is a JSON 4xx', async () => {
    const res = await fetch(`${server.url}/panel?panel=gpus`, { headers: { authorization: `Bearer ${READ}`, origin: CORS_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('inline');
    expect(res.headers.get('access-control-allow-origin')).toBe(CORS_ORIGIN);
    expect(
      res.headers
        .get('access-control-expose-headers')
        ?.split(',')
        .map((h) => h.trim()),
    ).toContain('Content-Disposition');
    const html = await res.text();
    expect(html.startsWith('<!doctype html>')).toBe(true);

    for (const panel of ['overview', 'models', 'jobs']) {
      const r = await call(server.url, 'GET', '/panel', { key: READ, query: { panel } });
      expect([panel, r.status, r.headers.get('content-type')]).toEqual([panel, 200, 'text/html; charset=utf-8']);
    }
    const bad = await call(server.url, 'GET', '/panel', { key: READ, query: { panel: '<script>' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'Invalid input: panel: must be one of: overview, gpus, models, jobs.',
    });
    const unknownHost = await call(server.url, 'GET', '/panel', { key: READ, query: { host: 'nope' } });
    expect(unknownHost.status).toBe(404);
    expect(unknownHost.body.code).toBe('HOST_NOT_FOUND');
    const noKey = await call(server.url, 'GET', '/panel');
    expect(noKey.status).toBe(401);
    const extra = await call(server.url, 'GET', '/panel', { key: READ, query: { panel: 'gpus', color: 'red' } });
    expect(extra.status).toBe(400);
  });

  it('the panel page renders from a file:// copy with the network off and shows the numbers gpu_status gives', async () => {
    nvidia.setScenario(`${CAPTURE}__load`);
    const res = await call(server.url, 'GET', '/panel', { key: READ, query: { panel: 'gpus' } });
    const status = (await call(server.url, 'GET', '/gpu/status', { key: READ })).body.gpus[0];
    const file = path.join(shots, 'panel-gpus.html');
    writeFileSync(file, res.text);
    const context = await browser.newContext({ offline: true, viewport: { width: 900, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const requested: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requested.push(r.url()));
    try {
      await page.goto(pathToFileURL(file).href);
      expect(await page.locator('[data-gpu="0"] [data-field="utilization_percent"]').textContent()).toBe(`${status.utilization_percent} %`);
      expect(await page.locator('[data-gpu="0"] [data-field="temperature_celsius"]').textContent()).toBe(
        `${status.temperature_celsius} °C`,
      );
      expect(await page.locator('h4').first().textContent()).toBe(`GPU 0 · ${status.name}`);
      // The inline chart library drew the four charts.
      await eventually(() => page.locator('.chart canvas').count()).toBe(4);
      await shot(page, 'panel-gpus.png');
      expect(requested).toEqual([pathToFileURL(file).href]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('over MCP: show_panel returns the text fallback, declares its ui:// view, and the view renders a tool result', async () => {
    const { client, close } = await connectMcp(server.url, READ);
    try {
      const { tools } = await client.listTools();
      const tool = tools.find((t) => t.name === 'show_panel')!;
      expect(tool._meta).toEqual({ ui: { resourceUri: 'ui://gpu-host-tools/panel.html' } });
      expect(tools.filter((t) => t._meta).map((t) => t.name)).toEqual(['show_panel']);

      const { resources } = await client.listResources();
      expect(resources).toEqual([
        expect.objectContaining({ uri: 'ui://gpu-host-tools/panel.html', mimeType: 'text/html;profile=mcp-app' }),
      ]);
      const read = await client.readResource({ uri: 'ui://gpu-host-tools/panel.html' });
      expect(read.contents).toHaveLength(1);
      expect(read.contents[0]).toMatchObject({ uri: 'ui://gpu-host-tools/panel.html', mimeType: 'text/html;profile=mcp-app' });
      const viewHtml = (read.contents[0] as { text: string }).text;
      await expect(client.readResource({ uri: 'ui://gpu-host-tools/other.html' })).rejects.toThrow(
        /No resource "ui:\/\/gpu-host-tools\/other.html"/,
      );

      const status = (await call(server.url, 'GET', '/gpu/status', { key: READ })).body.gpus[0];
      const result: any = await client.callTool({ name: 'show_panel', arguments: { panel: 'gpus' } });
      expect(result.isError).toBeUndefined();
      expect(result.content).toHaveLength(1);
      const text: string = result.content[0].text;
      expect(text).toContain('Panel "gpus" of host whisper, shown to the user.');
      expect(text).toContain(`GPU 0 ${status.name}: ${status.utilization_percent} % busy`);
      expect(result.structuredContent).toMatchObject({ panel: 'gpus', host: 'whisper' });
      expect(result.structuredContent.html).toContain('data-field="utilization_percent"');

      const bad: any = await client.callTool({ name: 'show_panel', arguments: { panel: 'charts' } });
      expect(bad.isError).toBe(true);
      expect(JSON.parse(bad.content[0].text)).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });

      // A minimal MCP Apps host in chromium: the view in an iframe, the handshake, then the tool result.
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.setContent('<iframe id="view" style="width:880px;height:860px;border:0"></iframe>');
        const handshake = await page.evaluate(
          ({ html, toolResult }) =>
            new Promise<string[]>((resolve) => {
              const seen: string[] = [];
              const frame = document.getElementById('view') as HTMLIFrameElement;
              window.addEventListener('message', (e) => {
                const m = e.data;
                if (!m || m.jsonrpc !== '2.0' || !m.method) return;
                seen.push(m.method);
                const reply = (msg: object) => frame.contentWindow!.postMessage({ jsonrpc: '2.0', ...msg }, '*');
                if (m.method === 'ui/initialize')
                  reply({
                    id: m.id,
                    result: {
                      protocolVersion: '2026-01-26',
                      hostInfo: { name: 'test-host', version: '1' },
                      hostCapabilities: {},
                      hostContext: {},
                    },
                  });
                if (m.method === 'ui/notifications/initialized') {
                  reply({ method: 'ui/notifications/tool-input', params: { arguments: { panel: 'gpus' } } });
                  reply({ method: 'ui/notifications/tool-result', params: toolResult });
                }
                if (m.method === 'ui/notifications/size-changed' && seen.includes('ui/notifications/initialized')) resolve(seen);
              });
              frame.srcdoc = html;
            }),
          { html: viewHtml, toolResult: { content: result.content, structuredContent: result.structuredContent } },
        );
        // The handshake comes first, before any other message.
        expect(handshake.slice(0, 2)).toEqual(['ui/initialize', 'ui/notifications/initialized']);
        const view = page.frameLocator('#view');
        await eventually(() => view.locator('[data-gpu="0"] [data-field="utilization_percent"]').textContent()).toBe(
          `${status.utilization_percent} %`,
        );
        await eventually(() => view.locator('.chart canvas').count()).toBe(4);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      await close();
    }
  }, 60_000);
});
