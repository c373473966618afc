/**
 * DNS rebinding and CSRF tried by a real browser. Chromium's host resolver maps attacker.example to
 * 127.0.0.1, which is what a rebinding attacker's DNS does after the page has loaded: from then on the
 * page's own origin (http://attacker.example:<port>) reaches the server on loopback, and every request
 * it makes is same-origin to the browser. No traffic leaves loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../support/server.js';
import { launchChromium } from '../support/browser.js';

describe('DNS rebinding and CSRF in chromium (no keys: the quick start)', () => {
  let server: RunningServer;
  let browser: Browser;
  let attackerSite: Server;
  let dir: string;
  let port: number;
  let attackerPort: number;

  beforeAll(async () => {
    // Chromium first: when it is missing the file fails at once, before a server is left to clean up.
    browser = await launchChromium(['--host-resolver-rules=MAP attacker.example 127.0.0.1']);
    dir = mkdtempSync(`${tmpdir()}/ght-rebinding-`);
    server = await startServer({ FILES_ROOT: dir });
    port = Number(new URL(server.url).port);
    // Another origin on loopback: a page whose form posts to the server (a classic CSRF).
    attackerSite = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<form id="f" method="POST" enctype="text/plain" action="http://127.0.0.1:${port}/shell/exec">` +
          `<input name='{"command":"touch ${dir}/csrf-ran","x":"' value='"}'></form>`,
      );
    });
    await new Promise<void>((resolve) => attackerSite.listen(0, '127.0.0.1', resolve));
    attackerPort = (attackerSite.address() as { port: number }).port;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((resolve) => attackerSite?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** fetch() run inside the page, as the page's own script would. */
  const pageFetch = (page: import('playwright-core').Page, path: string, init?: { method: string; body: string }) =>
    page.evaluate(
      async ({ path, init }) => {
        const res = await fetch(path, init ? { ...init, headers: { 'content-type': 'application/json' } } : undefined);
        return { status: res.status, body: await res.text() };
      },
      { path, init },
    );

  it("refuses the rebound page's same-origin requests: the page, reads and a shell command", async () => {
    const page = await browser.newPage();
    try {
      const doc = await page.goto(`http://attacker.example:${port}/docs`);
      expect(doc!.status()).toBe(403);
      const marker = `${dir}/rebinding-ran`;
      const exec = await pageFetch(page, '/shell/exec', { method: 'POST', body: JSON.stringify({ command: `touch ${marker}` }) });
      expect(exec.status).toBe(403);
      expect(JSON.parse(exec.body).code).toBe('HOST_NOT_ALLOWED');
      const read = await pageFetch(page, '/files/list?path=.');
      expect(read.status).toBe(403);
      expect(JSON.parse(read.body).code).toBe('HOST_NOT_ALLOWED');
      const mcp = await pageFetch(page, '/mcp', { method: 'POST', body: '{}' });
      expect(mcp.status).toBe(403);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await page.close();
    }
  });

  it('lets the same page script work from the real loopback origin (its POST carries that Origin)', async () => {
    const page = await browser.newPage();
    try {
      const requests: Array<Promise<Record<string, string>>> = [];
      page.on('request', (r) => requests.push(r.allHeaders()));
      expect((await page.goto(`http://127.0.0.1:${port}/docs`))!.status()).toBe(200);
      const marker = `${dir}/own-origin-ran`;
      const exec = await pageFetch(page, '/shell/exec', { method: 'POST', body: JSON.stringify({ command: `touch ${marker}` }) });
      expect(exec.status).toBe(200);
      expect(existsSync(marker)).toBe(true);
      const sent = await Promise.all(requests);
      expect(sent.some((h) => h.origin === `http://127.0.0.1:${port}`)).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("refuses a form another origin's page posts to the server", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${attackerPort}/`);
      const [answer] = await Promise.all([
        page.waitForNavigation(),
        page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
      ]);
      expect(answer!.status()).toBe(403);
      expect(JSON.parse(await answer!.text()).code).toBe('ORIGIN_NOT_ALLOWED');
      expect((await answer!.request().allHeaders()).origin).toBe(`http://127.0.0.1:${attackerPort}`);
      expect(existsSync(`${dir}/csrf-ran`)).toBe(false);
    } finally {
      await page.close();
    }
  });
});
