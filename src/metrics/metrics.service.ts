import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HostRegistry } from '../infra/host-registry.js';
import { AppError } from '../common/errors.js';
import { GpuService } from '../modules/gpu/gpu.service.js';
import type { GpuStatusResult } from '../modules/gpu/dto/gpu.dto.js';
import { JobStore } from '../modules/ollama/jobs.js';

/** A scrape re-reads nvidia-smi at most once per this interval per host. */
export const GPU_CACHE_MS = 10_000;

const CONNECTION_STATES = ['idle', 'connecting', 'connected', 'reconnecting', 'failed'] as const;

/**
 * Prometheus metrics (prom-client). Request metrics are recorded by the REST interceptor and the MCP
 * tool runner; host, job and GPU metrics are collected at scrape time.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'status' | 'surface'>;
  private readonly latency: Histogram<'operation' | 'status' | 'surface'>;
  private readonly log = new Logger('Metrics');
  private readonly gpuCache = new Map<string, { at: number; reading: Promise<GpuStatusResult | undefined> }>();
  /** Per host, the last scrape's GPU outcome ('ok' or the error message), so a failure is logged once per change. */
  private readonly gpuOutcome = new Map<string, string>();

  constructor(
    private readonly hosts: HostRegistry,
    private readonly gpu: GpuService,
    jobs: JobStore,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ght_' });
    this.requests = new Counter({
      name: 'ght_requests_total',
      help: 'Operation calls by operation, HTTP status and surface (rest or mcp).',
      labelNames: ['operation', 'status', 'surface'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'ght_request_duration_seconds',
      help: 'Operation latency by operation, status and surface.',
      labelNames: ['operation', 'status', 'surface'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [this.registry],
    });
    // collect() runs with `this` bound to the gauge, so the service's parts are captured here
    // (`hosts` is the constructor parameter).
    const gpuReadings = () => this.gpuReadings();
    const jobCounts = () => jobs.counts();
    new Gauge({
      name: 'ght_ssh_connection_state',
      help: 'SSH connection state per host (1 for the current state).',
      labelNames: ['host', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts.all()) {
          if (h.config.transport !== 'ssh') continue;
          const current = h.transport.status().state;
          for (const state of CONNECTION_STATES) this.set({ host: h.name, state }, state === current ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'ght_ssh_reconnects',
      help: 'Times the SSH connection to a host was re-established after a drop (since start).',
      labelNames: ['host'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const h of hosts.all()) if (h.config.transport === 'ssh') this.set({ host: h.name }, h.transport.status().reconnects);
      },
    });
    new Gauge({
      name: 'ght_jobs',
      help: 'Ollama jobs currently kept, by kind and state.',
      labelNames: ['kind', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of jobCounts()) this.set({ kind: c.kind, state: c.state }, c.count);
      },
    });
    const gpuGauge = (name: string, help: string, pick: (g: GpuStatusResult['gpus'][number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['host', 'gpu', 'uuid', 'name'],
        registers: [this.registry],
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
      registers: [this.registry],
      async collect() {
        this.reset();
        const names = hosts.all().map((h) => h.name);
        const readings = await gpuReadings();
        for (const host of names) this.set({ host }, readings.some((r) => r.host === host) ? 1 : 0);
      },
    });
  }

  observe(operation: string, status: number, surface: 'rest' | 'mcp', seconds: number): void {
    const labels = { operation, status: String(status), surface };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
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
