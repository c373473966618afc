/**
 * Swagger UI at /docs checked in a real browser: authorize with the API key, run gpu_status with
 * "Try it out" → "Execute" against a real sshd and the fake nvidia-smi, and read the rendered response.
 * Leaves a screenshot in test-results/swagger-gpu-status.png (and one of the whole page on failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer, sshEnv } from '../support/server.js';
import { sharedSshd } from '../support/context.js';
import { privateNvidiaSmi } from '../support/fake-nvidia-smi.js';
import { launchChromium } from '../support/browser.js';

const FULL = 'full-key-0123456789abcdef';
const SCENARIO = 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load';
const GPU_NAME = 'NVIDIA GeForce RTX 2080 SUPER';
const RESULTS = path.resolve('test-results');

describe('Swagger UI in chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let binDir: string;

  beforeAll(async () => {
    const sshd = sharedSshd();
    const nvidia = privateNvidiaSmi(SCENARIO);
    binDir = nvidia.binDir;
    // Chromium first: when it is missing the file fails at once, before a server is left to clean up.
    browser = await launchChromium();
    server = await startServer({
      ...sshEnv(sshd),
      NVIDIA_SMI_PATH: nvidia.path,
      API_KEY: FULL,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (binDir) rmSync(binDir, { recursive: true, force: true });
  });

  it('authorizes with the API key and runs gpu_status with Try it out → Execute', async () => {
    mkdirSync(RESULTS, { recursive: true });
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(15_000);
    try {
      const res = await page.goto(`${server.url}/docs`, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);

      // Authorize: the button at the top of the page opens a dialog with the bearer scheme's value field.
      await page.locator('.auth-wrapper button.authorize').click();
      const dialog = page.locator('.modal-ux');
      await dialog.locator('input').first().fill(FULL);
      await dialog.locator('.auth-btn-wrapper button.authorize').click();
      await expect.poll(() => dialog.locator('.auth-btn-wrapper button').allTextContents()).toContain('Logout');
      await dialog.locator('button.btn-done').click();
      await dialog.waitFor({ state: 'detached' });

      const op = page.locator('.opblock[id$="-gpu_status"]').first();
      await op.locator('.opblock-summary').first().click();
      await op.locator('button.try-out__btn').click();
      await op.locator('button.execute').click();

      const live = op.locator('.live-responses-table');
      await live.waitFor();
      const status = op.locator('.live-responses-table .response .response-col_status').first();
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toMatch(/^\s*200/);
      const body = (await op.locator('.live-responses-table .response-col_description pre').first().textContent()) ?? '';
      expect(body).toContain(GPU_NAME);
      expect(JSON.parse(body)).toMatchObject({ host: 'whisper', driver_version: '595.71.05', gpus: [{ index: 0, name: GPU_NAME }] });
      // The request Swagger UI sent carried the key (its curl line shows what it sent).
      expect(await op.locator('.curl-command').textContent()).toContain(`Bearer ${FULL}`);
      expect(pageErrors).toEqual([]);

      // From the top of the page (title, Authorize showing the lock closed) down to the end of the live
      // response; the documented responses below it are left out.
      const bottom = await live.evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY);
      await page.screenshot({
        path: path.join(RESULTS, 'swagger-gpu-status.png'),
        fullPage: true,
        clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) + 16 },
      });
    } catch (err) {
      await page.screenshot({ path: path.join(RESULTS, 'swagger-gpu-status-failure.png'), fullPage: true }).catch(() => {});
      throw err;
    } finally {
      await page.close();
    }
  }, 90_000);
});
