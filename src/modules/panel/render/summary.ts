/**
 * The text a panel stands for, for MCP clients that show no UI (and for the model, which never sees
 * the panel): the same numbers, one line per thing. Pure.
 */
import type { PanelKind } from '../dto/panel.dto.js';
import type { HostView, Outcome } from '../panel-data.js';
import { gb, num, until } from './format.js';
import { PANEL_PARTS } from './sections.js';

const line = <T>(label: string, o: Outcome<T> | undefined, draw: (v: T) => string[]): string[] => {
  if (!o) return [];
  return o.ok ? draw(o.value) : [`${label}: ${o.code}: ${o.message}`];
};

export function panelSummary(view: HostView, panel: PanelKind, now: number): string {
  const out: string[] = [`Panel "${panel}" of host ${view.name}, shown to the user.`];
  for (const part of PANEL_PARTS[panel]) {
    if (part === 'info')
      out.push(
        ...line('Host', view.info, (h) => [
          h.reachable ? `Host ${h.name} (${h.address}) is reachable.` : `Host ${h.name} is unreachable: ${h.error ?? ''}`,
        ]),
      );
    if (part === 'gpus')
      out.push(
        ...line('GPUs', view.gpu, (s) => [
          ...s.gpus.map(
            (g) =>
              `GPU ${g.index} ${g.name}: ${num(g.utilization_percent)} % busy, ${num(g.memory_used_mb)} / ${num(g.memory_total_mb)} MiB, ` +
              `${num(g.temperature_celsius)} °C, ${num(g.power_draw_watts, 1)} / ${num(g.power_limit_watts)} W.`,
          ),
          ...(s.processes.length
            ? [`Processes: ${s.processes.map((p) => `${p.process_name ?? p.pid} ${num(p.used_memory_mb)} MiB`).join(', ')}.`]
            : []),
        ]),
      );
    if (part === 'models')
      out.push(
        ...line('Loaded models', view.running, (r) =>
          r.models.length
            ? r.models.map((m) => `Loaded: ${m.name}, ${gb(m.size_vram_bytes)} in VRAM, unloads ${until(m.expires_at, now)}.`)
            : ['No model loaded.'],
        ),
      );
    if (part === 'jobs')
      out.push(
        ...line('Jobs', view.jobs, (jobs) =>
          jobs.length
            ? jobs.map((j) => `Job ${j.kind} ${j.model}: ${j.state}${j.percent === null ? '' : `, ${num(j.percent, 1)} %`} (${j.status}).`)
            : ['No recent pull or create.'],
        ),
      );
    if (part === 'disks')
      out.push(
        ...line('Disks', view.resources, (r) => [
          `Disks: ${r.disks.map((d) => `${d.mount} ${num(d.use_percent)} % used (${num(d.available_gb, 1)} GiB free)`).join(', ')}.`,
        ]),
      );
  }
  return out.join('\n');
}
