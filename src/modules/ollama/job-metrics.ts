import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service.js';
import { JobStore } from './jobs.js';

/** The Ollama job gauge on /metrics, counted at scrape time. */
@Injectable()
export class JobMetrics {
  constructor(metrics: MetricsService, jobs: JobStore) {
    new Gauge({
      name: 'ght_jobs',
      help: 'Ollama jobs currently kept, by kind and state.',
      labelNames: ['kind', 'state'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const c of jobs.counts()) this.set({ kind: c.kind, state: c.state }, c.count);
      },
    });
  }
}
