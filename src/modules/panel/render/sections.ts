/**
 * The one renderer: pure functions from the operations' results (a HostView) to HTML. The dashboard's
 * live updates, the show_panel page and the MCP App view all use these, so they cannot disagree.
 * Every value from a host, Ollama or the registry goes through esc().
 */
import type { GpuInfo, GpuProcess, GpuStatusResult } from '../../gpu/dto/gpu.dto.js';
import type { GpuChartSeries } from '../../gpu/gpu-history.js';
import type { HostResourcesResult } from '../../hosts/dto/hosts.dto.js';
import type { OllamaJob } from '../../ollama/dto/ollama-jobs.dto.js';
import type { OllamaRunningModelsResult } from '../../ollama/dto/ollama-models.dto.js';
import type { PanelKind } from '../dto/panel.dto.js';
import type { HostView, Outcome } from '../panel-data.js';
import { bar, clock, esc, gb, num, percentOf, until } from './format.js';

/** The parts each panel shows; the dashboard shows the overview of every host. */
export const PANEL_PARTS: Record<PanelKind, ReadonlyArray<'info' | 'gpus' | 'models' | 'jobs' | 'disks'>> = {
  overview: ['info', 'gpus', 'models', 'jobs', 'disks'],
  gpus: ['gpus'],
  models: ['models'],
  jobs: ['jobs'],
};

export const PANEL_TITLES: Record<PanelKind, string> = {
  overview: 'Overview',
  gpus: 'GPUs',
  models: 'Loaded models',
  jobs: 'Ollama jobs',
};

/** The charts cover the last hour in 15 s buckets: 240 points per line, enough for a phone or a wide screen. */
export const CHART_WINDOW_MS = 3600_000;
export const CHART_BUCKET_MS = 15_000;

/** The chart lines per GPU, in the order GpuChartSeries keeps them. */
export const CHART_METRICS = [
  { field: 'utilization_percent', label: 'Utilization', unit: '%' },
  { field: 'memory_used_mb', label: 'Memory', unit: 'MiB' },
  { field: 'temperature_celsius', label: 'Temperature', unit: '°C' },
  { field: 'power_draw_watts', label: 'Power', unit: 'W' },
] as const;

const failed = (o: { code: string; message: string }) =>
  `<p class="error" data-error="${esc(o.code)}"><strong>${esc(o.code)}</strong> ${esc(o.message)}</p>`;

function block(part: string, title: string, body: string): string {
  return `<div class="block ${part}" data-part="${part}"><h3>${esc(title)}</h3>${body}</div>`;
}

function outcomeBlock<T>(part: string, title: string, o: Outcome<T> | undefined, draw: (v: T) => string): string {
  if (!o) return block(part, title, '<p class="muted">Reading…</p>');
  return block(part, title, o.ok ? draw(o.value) : failed(o));
}

// ---- GPUs -----------------------------------------------------------------------------------------------

function metric(field: string, label: string, value: string, percent: number | null): string {
  return `<div class="metric"><dt>${label}</dt><dd data-field="${field}">${value}</dd>${bar(percent, label)}</div>`;
}

/** The chart placeholders and their data (times in seconds, as uPlot wants), drawn by the page's script. */
function history(host: string, gpu: GpuInfo, series: GpuChartSeries | undefined, now: number): string {
  const key = `${host}/${gpu.uuid}`;
  // The x axis is always the whole hour, so a chart with a few minutes of readings does not stretch them.
  const span = { from: Math.round((now - CHART_WINDOW_MS) / 1000), to: Math.round(now / 1000) };
  const data = series
    ? { ...span, t: series.times.map((t) => Math.round(t / 1000)), s: CHART_METRICS.map((m) => series[m.field]) }
    : { ...span, t: [], s: CHART_METRICS.map(() => []) };
  const boxes = CHART_METRICS.map(
    (m, i) =>
      `<figure class="chart-box"><figcaption>${m.label} (${esc(m.unit)}), last hour</figcaption><div class="chart" data-chart="${esc(key)}/${i}"></div></figure>`,
  ).join('');
  return `<div class="history" data-history="${esc(JSON.stringify(data))}">${boxes}</div>`;
}

function gpuCard(host: string, g: GpuInfo, series: GpuChartSeries | undefined, now: number): string {
  const memPercent = percentOf(g.memory_used_mb, g.memory_total_mb);
  const power =
    g.power_limit_watts == null ? `${num(g.power_draw_watts, 1)} W` : `${num(g.power_draw_watts, 1)} / ${num(g.power_limit_watts)} W`;
  return (
    `<article class="gpu" data-gpu="${g.index}"><h4>GPU ${g.index} · ${esc(g.name)}</h4><dl class="metrics">` +
    metric('utilization_percent', 'Utilization', `${num(g.utilization_percent)} %`, g.utilization_percent) +
    metric('memory', 'Memory', `${num(g.memory_used_mb)} / ${num(g.memory_total_mb)} MiB`, memPercent) +
    // 100 °C is past every GPU's slowdown point: the bar is full well before damage.
    metric('temperature_celsius', 'Temperature', `${num(g.temperature_celsius)} °C`, g.temperature_celsius) +
    metric('power_draw_watts', 'Power', power, percentOf(g.power_draw_watts, g.power_limit_watts)) +
    `</dl>${history(host, g, series, now)}</article>`
  );
}

function processTable(processes: GpuProcess[]): string {
  if (processes.length === 0) return '<p class="muted">No compute processes.</p>';
  const rows = processes
    .map(
      (p) =>
        `<tr><td>${p.gpu_index ?? '–'}</td><td>${p.pid ?? '–'}</td><td class="name">${esc(p.process_name ?? '(not reported)')}</td><td class="n">${num(p.used_memory_mb)} MiB</td></tr>`,
    )
    .join('');
  return `<table class="processes"><thead><tr><th>GPU</th><th>PID</th><th>Process</th><th class="n">Memory</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderGpus(host: string, status: GpuStatusResult, charts: GpuChartSeries[], now: number): string {
  const byUuid = new Map(charts.map((c) => [c.uuid, c]));
  const cards = status.gpus.map((g) => gpuCard(host, g, byUuid.get(g.uuid), now)).join('');
  const versions = `Driver ${esc(status.driver_version ?? '–')} · CUDA ${esc(status.cuda_version ?? '–')} · read ${clock(status.sampled_at)}`;
  return `<p class="muted">${versions}</p><div class="gpu-list">${cards || '<p class="muted">No GPU listed.</p>'}</div>${processTable(status.processes)}`;
}

// ---- models, jobs, disks -----------------------------------------------------------------------------------

export function renderModels(result: OllamaRunningModelsResult, now: number): string {
  if (result.models.length === 0) return '<p class="muted">No model loaded.</p>';
  const rows = result.models
    .map(
      (m) =>
        `<tr data-model="${esc(m.name)}"><td class="name">${esc(m.name)}</td><td class="n" data-field="size_vram">${gb(m.size_vram_bytes)}</td>` +
        `<td class="n">${num(m.gpu_percent)} %</td><td data-field="unloads" title="${esc(m.expires_at)}">${esc(until(m.expires_at, now))}</td></tr>`,
    )
    .join('');
  return `<table class="models"><thead><tr><th>Model</th><th class="n">VRAM</th><th class="n">On GPU</th><th>Unloads</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderJobs(jobs: OllamaJob[]): string {
  if (jobs.length === 0) return '<p class="muted">No recent pull or create.</p>';
  return jobs
    .map((j) => {
      const bytes = j.total_bytes > 0 ? ` · ${gb(j.completed_bytes)} of ${gb(j.total_bytes)}` : '';
      const kind = j.state === 'failed' || j.state === 'cancelled' ? 'bad' : j.state === 'succeeded' ? 'done' : 'run';
      return (
        `<div class="job" data-job="${esc(j.job_id)}" data-state="${esc(j.state)}"><div class="job-head"><span class="name">${esc(j.kind)} ${esc(j.model)}</span>` +
        `<span class="state ${esc(j.state)}">${esc(j.state)}</span><span data-field="percent">${j.percent === null ? '' : `${num(j.percent, 1)} %`}</span></div>` +
        `${bar(j.percent, `${j.kind} ${j.model}`, kind)}<p class="muted">${esc(j.status)}${bytes}</p>${j.error ? `<p class="error">${esc(j.error)}</p>` : ''}</div>`
      );
    })
    .join('');
}

export function renderDisks(r: HostResourcesResult): string {
  const rows = r.disks
    .map(
      (d) =>
        `<tr data-mount="${esc(d.mount)}"><td class="name">${esc(d.mount)}</td><td class="n">${num(d.used_gb, 1)} / ${num(d.size_gb, 1)} GiB</td>` +
        `<td class="n">${num(d.available_gb, 1)} GiB free</td><td class="barcell">${bar(d.use_percent, `disk ${d.mount}`)}</td></tr>`,
    )
    .join('');
  const mem = `RAM ${num(r.memory.used_mb)} / ${num(r.memory.total_mb)} MiB · load ${r.load_average.map((l) => num(l, 2)).join(' ')} · ${r.cpu_count} CPUs`;
  return `<p class="muted">${esc(r.hostname)} · ${mem}</p><table class="disks"><thead><tr><th>Mount</th><th class="n">Used</th><th class="n">Free</th><th>Use</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// ---- a host ------------------------------------------------------------------------------------------------

function hostHead(view: HostView): string {
  const info = view.info;
  let badge = '<span class="badge">checking</span>';
  let detail = '';
  if (info?.ok) {
    badge = info.value.reachable ? '<span class="badge ok">reachable</span>' : '<span class="badge bad">unreachable</span>';
    detail = `<span class="muted">${esc(info.value.address)}</span>`;
    if (!info.value.reachable && info.value.error) detail += `<p class="error">${esc(info.value.error)}</p>`;
  } else if (info) {
    badge = '<span class="badge bad">error</span>';
    detail = failed(info);
  }
  return `<header class="host-head"><h2>${esc(view.name)}</h2><span data-field="reachable">${badge}</span>${detail}</header>`;
}

/** One host's section with the parts of the given panel. */
export function renderHost(view: HostView, panel: PanelKind, now: number): string {
  const parts = PANEL_PARTS[panel].map((part) => {
    switch (part) {
      case 'info':
        return hostHead(view);
      case 'gpus':
        return outcomeBlock('gpus', 'GPUs', view.gpu, (s) => renderGpus(view.name, s, view.charts ?? [], now));
      case 'models':
        return outcomeBlock('models', 'Loaded models', view.running, (r) => renderModels(r, now));
      case 'jobs':
        return outcomeBlock('jobs', 'Ollama jobs', view.jobs, renderJobs);
      case 'disks':
        return outcomeBlock('disks', 'Disks and memory', view.resources, renderDisks);
    }
  });
  const head = PANEL_PARTS[panel].includes('info') ? '' : `<header class="host-head"><h2>${esc(view.name)}</h2></header>`;
  return `<section class="host" data-host="${esc(view.name)}">${head}${parts.join('')}</section>`;
}

/** The dashboard's live body: every host's overview, and when it was made. */
export function renderDashboardBody(views: HostView[], now: number): string {
  // Whole seconds: an unchanged body within the same second is not sent again.
  const stamp = new Date(Math.floor(now / 1000) * 1000).toISOString();
  return `<p class="stamp muted" data-generated-at="${stamp}">Updated ${clock(stamp)}</p>${views.map((v) => renderHost(v, 'overview', now)).join('')}`;
}
