/**
 * show_panel's two surfaces over the real PanelService, ToolRunner and controller, with stand-in sources:
 * an MCP call sends the text and the body and never builds the page (counted on the page renderer), and
 * REST answers exactly the page the renderer draws for the same view, part errors included.
 */
import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/common/errors.js';
import type { HostRegistry } from '../../src/infra/host-registry.js';
import type { ToolRunner as ToolRunnerType } from '../../src/mcp/tool-runner.js';
import type { Caller } from '../../src/operations/auth.js';
import type { OllamaRunningModel } from '../../src/modules/ollama/dto/ollama-models.dto.js';
import type { PanelKind } from '../../src/modules/panel/dto/panel.dto.js';
import type { HostView, Outcome, PanelSources } from '../../src/modules/panel/panel-data.js';

// Counts page builds while drawing them with the real renderer.
const pages = vi.hoisted(() => ({ built: 0 }));
vi.mock('../../src/modules/panel/render/pages.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/modules/panel/render/pages.js')>();
  return { ...real, panelPage: (...args: Parameters<typeof real.panelPage>) => (pages.built++, real.panelPage(...args)) };
});

const { ToolRunner } = await import('../../src/mcp/tool-runner.js');
const { PanelController } = await import('../../src/modules/panel/panel.controller.js');
const { PanelService } = await import('../../src/modules/panel/panel.service.js');
const { panelBody, panelPage } = await import('../../src/modules/panel/render/pages.js');
const { chartLibrary } = await import('../../src/modules/panel/chart-library.js');
// Registers show_panel, as the server's module import does.
await import('../../src/modules/panel/panel.operations.js');

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0);
const HOSTILE = `"><img src=x onerror=alert(1)></script><script>alert('x')</script>`;
const caller: Caller = { keyName: 'test', scopes: new Set(['read']) };

/** What the stand-in sources answer: a GPU read that fails the way nvidia-smi does, a hostile model name. */
const expectedView = (): HostView => ({
  name: 'whisper',
  info: {
    ok: true,
    value: { name: 'whisper', transport: 'ssh', address: 'ccpm@10.0.1.201:22', default: true, areas: [], reachable: true, ollama_url: '' },
  },
  gpu: { ok: false, code: 'GPU_UNAVAILABLE', message: 'nvidia-smi is not installed on host whisper.' },
  charts: [],
  running: {
    ok: true,
    value: {
      host: 'whisper',
      // Only what the renderer reads.
      models: [
        {
          name: HOSTILE,
          size_vram_bytes: 1_000_000,
          gpu_percent: 100,
          expires_at: new Date(NOW + 60_000).toISOString(),
        } as OllamaRunningModel,
      ],
    },
  },
  jobs: { ok: true, value: [] },
  resources: { ok: false, code: 'HOST_ERROR', message: 'df failed on host whisper.' },
});

function setup() {
  const v = expectedView();
  const sources = {
    info: async () => v.info as Outcome<any>,
    gpuStatus: async () => v.gpu as Outcome<any>,
    charts: () => [],
    running: async () => v.running as Outcome<any>,
    jobs: async () => v.jobs as Outcome<any>,
    resources: async () => v.resources as Outcome<any>,
  } as unknown as PanelSources;
  const hosts = {
    get: (name?: string) => {
      if (name !== undefined && name !== 'whisper')
        throw new AppError(404, 'HOST_NOT_FOUND', `No host named "${name}" is configured; use one of: whisper (see list_hosts).`);
      return { name: 'whisper' };
    },
  } as unknown as HostRegistry;
  const service = new PanelService(hosts, sources);
  const recorded: Array<{ status: number; code?: string }> = [];
  const runner: ToolRunnerType = new ToolRunner(
    { get: () => service } as any,
    { authorize: () => {} } as any,
    { record: (_op: unknown, call: { status: number; code?: string }) => recorded.push({ status: call.status, code: call.code }) } as any,
    {} as any,
  );
  const controller = new PanelController(service);
  const headers: Record<string, string> = {};
  const res = {
    type(t: string) {
      headers['content-type'] = t;
      return this;
    },
    set(h: Record<string, string>) {
      Object.assign(headers, h);
      return this;
    },
  };
  return { runner, controller, res, headers, recorded };
}

describe('show_panel builds its page only for REST', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    pages.built = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('an MCP call answers the text and the body, and builds no page', async () => {
    const { runner, recorded } = setup();
    for (const panel of ['overview', 'gpus', 'models', 'jobs'] as const) {
      const result = await runner.call(caller, 'show_panel', { panel });
      expect(result.isError).toBeUndefined();
      expect(result.content).toHaveLength(1);
      expect(result.content[0].text).toContain(`Panel "${panel}" of host whisper, shown to the user.`);
      expect(result.structuredContent).toEqual({
        panel,
        host: 'whisper',
        generated_at: new Date(NOW).toISOString(),
        html: panelBody(expectedView(), panel, NOW),
      });
    }
    const overview = await runner.call(caller, 'show_panel', {});
    expect(overview.content[0].text).toContain('GPUs: GPU_UNAVAILABLE: nvidia-smi is not installed on host whisper.');
    expect(overview.structuredContent!.html).not.toContain(HOSTILE);
    expect(overview.content[0].text).toContain('No recent pull or create.');
    expect(pages.built).toBe(0);
    expect(recorded.every((r) => r.status === 200)).toBe(true);
  });

  it('bad MCP input and an unknown host are the usual errors, and build no page either', async () => {
    const { runner } = setup();
    const bad = await runner.call(caller, 'show_panel', { panel: '<script>' });
    expect(bad.isError).toBe(true);
    expect(JSON.parse(bad.content[0].text)).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const extra = await runner.call(caller, 'show_panel', { panel: 'gpus', color: 'red' });
    expect(JSON.parse(extra.content[0].text)).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const unknown = await runner.call(caller, 'show_panel', { host: 'nope' });
    expect(JSON.parse(unknown.content[0].text)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'HOST_NOT_FOUND',
      message: 'No host named "nope" is configured; use one of: whisper (see list_hosts).',
    });
    expect(pages.built).toBe(0);
  });

  it('REST answers the very page the renderer draws for the view, once per call', async () => {
    const { controller, res, headers } = setup();
    for (const panel of ['overview', 'gpus', 'models', 'jobs'] as PanelKind[]) {
      const before = pages.built;
      const html = await controller.show_panel({ panel }, res as any);
      expect(pages.built).toBe(before + 1);
      const view = expectedView();
      // The page as it was built before it became lazy: the same call on the same view.
      expect(html).toBe(panelPage(view, panel, panelBody(view, panel, NOW), chartLibrary()));
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toContain(HOSTILE);
    }
    expect(headers).toEqual({ 'content-type': 'text/html; charset=utf-8', 'Content-Disposition': 'inline', 'Cache-Control': 'no-store' });
  });
});
