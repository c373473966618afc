/**
 * The panel renderer (pure): what hostile names from a host, Ollama or a registry become, unknown values,
 * bars, unload times, the text fallback, and that a panel page asks for nothing outside itself.
 */
import { describe, expect, it } from 'vitest';
import type { GpuInfo, GpuStatusResult } from '../../src/modules/gpu/dto/gpu.dto.js';
import type { OllamaJob } from '../../src/modules/ollama/dto/ollama-jobs.dto.js';
import type { OllamaRunningModel } from '../../src/modules/ollama/dto/ollama-models.dto.js';
import type { HostView } from '../../src/modules/panel/panel-data.js';
import { bar, esc, num, until } from '../../src/modules/panel/render/format.js';
import { mcpAppPage, panelBody, panelPage } from '../../src/modules/panel/render/pages.js';
import { renderDashboardBody, renderHost } from '../../src/modules/panel/render/sections.js';
import { panelSummary } from '../../src/modules/panel/render/summary.js';

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0);
const HOSTILE = `"><img src=x onerror=alert(1)></script><script>alert('x')</script>`;
const LIB = { js: 'window.uPlot=function(){};', css: '.u{}' };

const gpu = (over: Partial<GpuInfo> = {}): GpuInfo =>
  ({
    index: 0,
    uuid: 'GPU-4d2b0b4e-6b8c-4c3e-9d1a-2f3e4a5b6c7d',
    name: 'NVIDIA GeForce RTX 2080 SUPER',
    utilization_percent: 100,
    memory_used_mb: 7449,
    memory_total_mb: 8192,
    memory_free_mb: 743,
    temperature_celsius: 71,
    power_draw_watts: 241.63,
    power_limit_watts: 250,
    fan_speed_percent: 74,
    ...over,
  }) as GpuInfo;

const status = (gpus: GpuInfo[], processes: GpuStatusResult['processes'] = []): GpuStatusResult => ({
  host: 'whisper',
  driver_version: '595.71.05',
  cuda_version: '13.1',
  gpus,
  processes,
  collected_at: new Date(NOW).toISOString(),
  sampled_at: new Date(NOW).toISOString(),
});

const model = (over: Partial<OllamaRunningModel> = {}): OllamaRunningModel =>
  ({
    name: 'llama3.2:latest',
    size_vram_bytes: 3_321_450_496,
    gpu_percent: 100,
    expires_at: new Date(NOW + 4 * 60_000).toISOString(),
    ...over,
  }) as OllamaRunningModel;

const job = (over: Partial<OllamaJob> = {}): OllamaJob => ({
  job_id: 'job-1',
  kind: 'pull',
  host: 'whisper',
  model: 'gemma:2b',
  state: 'running',
  status: 'pulling c1864a5eb193',
  completed_bytes: 629_417_820,
  total_bytes: 1_678_447_520,
  percent: 37.5,
  error: null,
  started_at: new Date(NOW - 10_000).toISOString(),
  finished_at: null,
  ...over,
});

const view = (over: Partial<HostView> = {}): HostView => ({
  name: 'whisper',
  info: {
    ok: true,
    value: { name: 'whisper', transport: 'ssh', address: 'ccpm@10.0.1.201:22', default: true, areas: [], reachable: true, ollama_url: '' },
  },
  gpu: { ok: true, value: status([gpu()]) },
  charts: [],
  running: { ok: true, value: { host: 'whisper', models: [model()] } },
  jobs: { ok: true, value: [job()] },
  resources: {
    ok: true,
    value: {
      host: 'whisper',
      hostname: 'whisper',
      uptime_seconds: 1,
      load_average: [0.5, 0.4, 0.3],
      cpu_count: 16,
      memory: { total_mb: 64000, used_mb: 12000, available_mb: 52000 },
      disks: [{ mount: '/', filesystem: '/dev/nvme0n1p2', size_gb: 915.8, used_gb: 412.3, available_gb: 457.1, use_percent: 48 }],
    },
  },
  ...over,
});

describe('format', () => {
  it('esc() turns every markup character into an entity', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(esc(null)).toBe('');
  });

  it('num() says "–" for unknown, NaN and infinity rather than 0 or "null"', () => {
    expect([num(null), num(undefined), num(NaN), num(Infinity)]).toEqual(['–', '–', '–', '–']);
    expect(num(7449)).toBe('7,449');
    expect(num(241.63, 1)).toBe('241.6');
  });

  it('bar() clamps to 0-100 and leaves aria-valuenow out when the value is unknown', () => {
    expect(bar(150, 'x')).toContain('aria-valuenow="100"');
    expect(bar(150, 'x')).toContain('width:100.0%');
    expect(bar(-5, 'x')).toContain('aria-valuenow="0"');
    expect(bar(null, 'x')).not.toContain('aria-valuenow');
    expect(bar(37.54, 'x')).toContain('aria-valuenow="37.5"');
    expect(bar(10, HOSTILE)).not.toContain('<img');
  });

  it('until() reads Ollama expiry times, including its far-future "kept loaded" and a bad date', () => {
    expect(until(new Date(NOW + 35_000).toISOString(), NOW)).toBe('in 35 s');
    expect(until(new Date(NOW + 4 * 60_000).toISOString(), NOW)).toBe('in 4 min');
    expect(until('2318-08-22T10:44:44.123456789+02:00', NOW)).toBe('kept loaded');
    expect(until(new Date(NOW - 1000).toISOString(), NOW)).toBe('now');
    expect(until('not a date', NOW)).toBe('–');
  });
});

describe('sections', () => {
  it('the overview shows reachability, each GPU number, the model, the job bar and the disk', () => {
    const html = renderHost(view(), 'overview', NOW);
    expect(html).toContain('<span class="badge ok">reachable</span>');
    expect(html).toContain('<dd data-field="utilization_percent">100 %</dd>');
    expect(html).toContain('<dd data-field="memory">7,449 / 8,192 MiB</dd>');
    expect(html).toContain('<dd data-field="temperature_celsius">71 °C</dd>');
    expect(html).toContain('<dd data-field="power_draw_watts">241.6 / 250 W</dd>');
    expect(html).toContain('<td class="n" data-field="size_vram">3.3 GB</td>');
    expect(html).toContain('>in 4 min</td>');
    expect(html).toMatch(/data-job="job-1" data-state="running">.*aria-valuenow="37.5"/);
    expect(html).toContain('412.3 / 915.8 GiB');
  });

  it('names from hosts, Ollama and registries are escaped everywhere they appear', () => {
    const hostile = view({
      gpu: {
        ok: true,
        value: status(
          [gpu({ name: HOSTILE, uuid: HOSTILE })],
          [{ gpu_index: 0, gpu_uuid: 'x', pid: 1, process_name: HOSTILE, used_memory_mb: 1 }],
        ),
      },
      running: { ok: true, value: { host: 'whisper', models: [model({ name: HOSTILE, expires_at: HOSTILE })] } },
      jobs: { ok: true, value: [job({ model: HOSTILE, status: HOSTILE, error: HOSTILE, job_id: HOSTILE, state: 'failed' })] },
      charts: [
        {
          index: 0,
          uuid: HOSTILE,
          name: HOSTILE,
          times: [NOW],
          utilization_percent: [1],
          memory_used_mb: [1],
          temperature_celsius: [1],
          power_draw_watts: [1],
        },
      ],
    });
    for (const panel of ['overview', 'gpus', 'models', 'jobs'] as const) {
      const page = panelPage(hostile, panel, panelBody(hostile, panel, NOW), LIB);
      expect(page).not.toContain('<img');
      expect(page).not.toMatch(/<script>alert/);
      expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });

  it('a failed source shows its code and message; the other parts still show', () => {
    const html = renderHost(
      view({ gpu: { ok: false, code: 'GPU_UNAVAILABLE', message: "nvidia-smi on host 'whisper' failed: NVIDIA-SMI has failed" } }),
      'overview',
      NOW,
    );
    expect(html).toContain('data-error="GPU_UNAVAILABLE"');
    expect(html).toContain('nvidia-smi on host &#39;whisper&#39; failed');
    expect(html).toContain('data-field="size_vram"');
  });

  it('failed jobs show like any failed part (escaped), and a part not read yet says so', () => {
    const html = renderHost(view({ jobs: { ok: false, code: 'INTERNAL_ERROR', message: HOSTILE } }), 'overview', NOW);
    expect(html).toContain(
      `<div class="block jobs" data-part="jobs"><h3>Ollama jobs</h3><p class="error" data-error="INTERNAL_ERROR"><strong>INTERNAL_ERROR</strong> ${esc(HOSTILE)}</p></div>`,
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('data-field="size_vram"');
    expect(renderHost(view({ jobs: undefined }), 'jobs', NOW)).toContain(
      '<div class="block jobs" data-part="jobs"><h3>Ollama jobs</h3><p class="muted">Reading…</p></div>',
    );
    expect(renderHost(view({ jobs: { ok: true, value: [] } }), 'jobs', NOW)).toContain('<p class="muted">No recent pull or create.</p>');
  });

  it('an unreachable host says so with the reason', () => {
    const html = renderHost(
      view({
        info: {
          ok: true,
          value: { ...(view().info as any).value, reachable: false, error: 'Host whisper (10.0.1.201:22) refused the connection.' },
        },
      }),
      'overview',
      NOW,
    );
    expect(html).toContain('<span class="badge bad">unreachable</span>');
    expect(html).toContain('refused the connection');
  });

  it('unknown GPU values are dashes and empty bars, never 0', () => {
    const html = renderHost(
      view({ gpu: { ok: true, value: status([gpu({ utilization_percent: null, power_draw_watts: null, power_limit_watts: null })]) } }),
      'gpus',
      NOW,
    );
    expect(html).toContain('<dd data-field="utilization_percent">– %</dd>');
    expect(html).toContain('<dd data-field="power_draw_watts">– W</dd>');
    expect(html).toMatch(/aria-label="Utilization" aria-valuemin="0" aria-valuemax="100"><span style="width:0.0%">/);
  });

  it('chart data goes into data-history in seconds, one line per metric', () => {
    const charts = [
      {
        index: 0,
        uuid: gpu().uuid,
        name: 'x',
        times: [NOW, NOW + 15_000],
        utilization_percent: [10, null],
        memory_used_mb: [1, 2],
        temperature_celsius: [3, 4],
        power_draw_watts: [5, 6],
      },
    ];
    const html = renderHost(view({ charts }), 'gpus', NOW);
    const attr = /data-history="([^"]*)"/.exec(html)![1].replace(/&quot;/g, '"');
    expect(JSON.parse(attr)).toEqual({
      from: NOW / 1000 - 3600,
      to: NOW / 1000,
      t: [NOW / 1000, NOW / 1000 + 15],
      s: [
        [10, null],
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    });
    expect(html.match(/class="chart" data-chart=/g)).toHaveLength(4);
  });

  it('a panel shows only its parts', () => {
    const models = renderHost(view(), 'models', NOW);
    expect(models).toContain('data-part="models"');
    expect(models).not.toContain('data-part="gpus"');
    expect(models).not.toContain('data-part="jobs"');
    expect(renderDashboardBody([view(), view({ name: 'harbor' })], NOW).match(/<section class="host"/g)).toHaveLength(2);
  });
});

describe('pages', () => {
  it('a panel page is self-contained: a CSP allowing no request, no src or href attribute, inline script only with charts', () => {
    const gpus = panelPage(view(), 'gpus', panelBody(view(), 'gpus', NOW), LIB);
    expect(gpus).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    );
    expect(gpus).not.toMatch(/\s(src|href)=/);
    expect(gpus).toContain(LIB.js);
    expect(gpus.match(/<script>/g)).toHaveLength(2);
    const jobs = panelPage(view(), 'jobs', panelBody(view(), 'jobs', NOW), LIB);
    expect(jobs).not.toContain('<script');
  });

  it('a "</script" inside the chart library cannot end its script element early', () => {
    const page = panelPage(view(), 'gpus', panelBody(view(), 'gpus', NOW), { js: 'var s="</script><b>x</b>";', css: '' });
    expect(page).toContain('var s="<\\/script><b>x</b>";');
  });

  it('the MCP App view holds no data and speaks the ui/initialize handshake', () => {
    const app = mcpAppPage(LIB);
    expect(app).toContain("request('ui/initialize'");
    expect(app).toContain('ui/notifications/tool-result');
    expect(app).not.toContain('whisper');
  });
});

describe('summary (the MCP text fallback)', () => {
  it('carries the numbers the panel shows', () => {
    const text = panelSummary(view(), 'overview', NOW);
    expect(text).toContain('Panel "overview" of host whisper, shown to the user.');
    expect(text).toContain('GPU 0 NVIDIA GeForce RTX 2080 SUPER: 100 % busy, 7,449 / 8,192 MiB, 71 °C, 241.6 / 250 W.');
    expect(text).toContain('Loaded: llama3.2:latest, 3.3 GB in VRAM, unloads in 4 min.');
    expect(text).toContain('Job pull gemma:2b: running, 37.5 % (pulling c1864a5eb193).');
    expect(text).toContain('Disks: / 48 % used (457.1 GiB free).');
  });

  it('says what failed instead of leaving it out', () => {
    const text = panelSummary(
      view({ running: { ok: false, code: 'OLLAMA_UNREACHABLE', message: 'Ollama at http://127.0.0.1:11434 refused the connection.' } }),
      'models',
      NOW,
    );
    expect(text).toContain('Loaded models: OLLAMA_UNREACHABLE: Ollama at http://127.0.0.1:11434 refused the connection.');
    expect(
      panelSummary(view({ jobs: { ok: false, code: 'INTERNAL_ERROR', message: 'The server failed unexpectedly.' } }), 'jobs', NOW),
    ).toBe('Panel "jobs" of host whisper, shown to the user.\nJobs: INTERNAL_ERROR: The server failed unexpectedly.');
    expect(panelSummary(view({ jobs: { ok: true, value: [] } }), 'jobs', NOW)).toBe(
      'Panel "jobs" of host whisper, shown to the user.\nNo recent pull or create.',
    );
    expect(panelSummary(view({ jobs: undefined }), 'jobs', NOW)).toBe('Panel "jobs" of host whisper, shown to the user.');
  });
});
