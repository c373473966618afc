import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HostRegistry } from '../infra/host-registry.js';

const CONNECTION_STATES = ['idle', 'connecting', 'connected', 'reconnecting', 'failed'] as const;

/**
 * Prometheus metrics (prom-client). Request metrics are recorded by the REST interceptor and the MCP
 * tool runner; host connection metrics are collected at scrape time. Feature modules add their own
 * scrape-time collectors to `registry` (GPU readings, Ollama jobs), so this service knows none of them.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<'operation' | 'status' | 'surface'>;
  private readonly latency: Histogram<'operation' | 'status' | 'surface'>;
  /** At most operations × statuses × surfaces entries. */
  private readonly series = new Map<string, { requests: { inc(): void }; latency: { observe(v: number): void } }>();

  constructor(hosts: HostRegistry) {
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
  }

  observe(operation: string, status: number, surface: 'rest' | 'mcp', seconds: number): void {
    // prom-client hashes and checks a label object on every call; a child per label set is found once.
    const key = `${operation} ${status} ${surface}`;
    let series = this.series.get(key);
    if (!series) {
      const labels = { operation, status: String(status), surface };
      series = { requests: this.requests.labels(labels), latency: this.latency.labels(labels) };
      this.series.set(key, series);
    }
    series.requests.inc();
    series.latency.observe(seconds);
  }
}
