import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppError } from '../../common/errors.js';
import { HostRegistry } from '../../infra/host-registry.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import type { GpuStatusResult } from './dto/gpu.dto.js';
import { GpuService } from './gpu.service.js';

/** A scrape re-reads nvidia-smi at most once per this interval per host. */
export const GPU_CACHE_MS = 10_000;

/** The GPU gauges on /metrics, collected at scrape time from the GPU readings of every host. */
@Injectable()
export class GpuMetrics {
  private readonly log = new Logger('Metrics');
  private readonly gpuCache = new Map<string, { at: number; reading: Promise<GpuStatusResult | undefined> }>();
  /** Per host, the last scrape's GPU outcome ('ok' or the error message), so a failure is logged once per change. */
  private readonly gpuOutcome = new Map<string, string>();

  constructor(
    metrics: MetricsService,
    private readonly hosts: HostRegistry,
    private readonly gpu: GpuService,
  ) {
    const registry = metrics.registry;
    // collect() runs with `this` bound to the gauge, so the collector's parts are captured here.
    const gpuReadings = () => this.gpuReadings();
    const gpuGauge = (name: string, help: string, pick: (g: GpuStatusResult['gpus'][number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['host', 'gpu', 'uuid', 'name'],
        registers: [registry],
        async collect() {
          this.reset();
          const readings = await gpuReadings();
          for (const r of readings) {
            for (const g of r.gpus) {
              const v = pick(g);
              if (v !== null) this.set({ host: r.host, gpu: String(g.index), uuid: g.uuid, name: g.name }, v);
            }
          }
        },
      });
    gpuGauge('ght_gpu_utilization_percent', 'GPU utilization in percent.', (g) => g.utilization_percent);
    gpuGauge('ght_gpu_memory_used_bytes', 'GPU memory in use, bytes.', (g) =>
      g.memory_used_mb === null ? null : g.memory_used_mb * 1024 * 1024,
    );
    gpuGauge('ght_gpu_memory_total_bytes', 'GPU memory total, bytes.', (g) =>
      g.memory_total_mb === null ? null : g.memory_total_mb * 1024 * 1024,
    );
    gpuGauge('ght_gpu_temperature_celsius', 'GPU temperature in degrees Celsius.', (g) => g.temperature_celsius);
    gpuGauge('ght_gpu_power_draw_watts', 'GPU power draw in watts.', (g) => g.power_draw_watts);
    new Gauge({
      name: 'ght_gpu_up',
      help: '1 when the last nvidia-smi reading of the host succeeded.',
      labelNames: ['host'],
      registers: [registry],
      async collect() {
        this.reset();
        const names = hosts.all().map((h) => h.name);
        const readings = await gpuReadings();
        for (const host of names) this.set({ host }, readings.some((r) => r.host === host) ? 1 : 0);
      },
    });
  }

  /**
   * One reading per host: the GPU sampler's when it is fresh, else one nvidia-smi query cached for
   * GPU_CACHE_MS; concurrent scrapes share the reading in flight, so scrapes never run nvidia-smi more
   * than once per interval per host.
   */
  private async gpuReadings(): Promise<GpuStatusResult[]> {
    const now = Date.now();
    const readings = this.hosts.all().map((h) => {
      let entry = this.gpuCache.get(h.name);
      if (!entry || now - entry.at >= GPU_CACHE_MS) {
        const reading = this.gpu.readingForMetrics(h.name).then(
          (r) => {
            this.noteGpuOutcome(h.name, 'ok');
            return r;
          },
          (err: unknown) => {
            this.noteGpuOutcome(h.name, err instanceof AppError ? err.message : 'the reading failed');
            return undefined;
          },
        );
        entry = { at: now, reading };
        this.gpuCache.set(h.name, entry);
      }
      return entry.reading;
    });
    return (await Promise.all(readings)).filter((r): r is GpuStatusResult => r !== undefined);
  }

  /** Logs a host's GPU read for scrapes when it starts failing, fails differently, or recovers. */
  private noteGpuOutcome(host: string, outcome: string): void {
    const before = this.gpuOutcome.get(host);
    if (before === outcome) return;
    this.gpuOutcome.set(host, outcome);
    if (outcome !== 'ok') this.log.warn(`GPU metrics for host '${host}' are missing (ght_gpu_up 0): ${outcome}`);
    else if (before !== undefined) this.log.log(`GPU metrics for host '${host}' are back`);
  }
}
