/**
 * What the panels and the dashboard show, and where it comes from: the operations' own service methods
 * (list_hosts, gpu_status, ollama_running_models, ollama_list_jobs, host_resources) and the GPU history
 * that gpu_history reads, so a panel never says something the JSON tools would not.
 */
import { Injectable } from '@nestjs/common';
import { toAppError } from '../../common/errors.js';
import type { GpuStatusResult } from '../gpu/dto/gpu.dto.js';
import type { GpuChartSeries } from '../gpu/gpu-history.js';
import { GpuService } from '../gpu/gpu.service.js';
import type { HostInfo, HostResourcesResult } from '../hosts/dto/hosts.dto.js';
import { HostsService } from '../hosts/hosts.service.js';
import type { OllamaJob } from '../ollama/dto/ollama-jobs.dto.js';
import type { OllamaRunningModelsResult } from '../ollama/dto/ollama-models.dto.js';
import { OllamaService } from '../ollama/ollama.service.js';
import { CHART_BUCKET_MS, CHART_WINDOW_MS } from './render/sections.js';

/** A source's answer, or the error its operation would have answered (code and message only). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Everything known about one host for a panel; a part left undefined is not shown. */
export interface HostView {
  name: string;
  info?: Outcome<HostInfo>;
  gpu?: Outcome<GpuStatusResult>;
  charts?: GpuChartSeries[];
  running?: Outcome<OllamaRunningModelsResult>;
  jobs?: Outcome<OllamaJob[]>;
  resources?: Outcome<HostResourcesResult>;
}

async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    const e = toAppError(err);
    return { ok: false, code: e.code, message: e.message };
  }
}

@Injectable()
export class PanelSources {
  constructor(
    private readonly hosts: HostsService,
    private readonly gpu: GpuService,
    private readonly ollama: OllamaService,
  ) {}

  info(host: string): Promise<Outcome<HostInfo>> {
    return outcome(async () => (await this.hosts.list_hosts({ host })).hosts[0]);
  }

  gpuStatus(host: string): Promise<Outcome<GpuStatusResult>> {
    return outcome(() => this.gpu.status({ host }));
  }

  charts(host: string): GpuChartSeries[] {
    return this.gpu.gpu_chart(host, CHART_WINDOW_MS, CHART_BUCKET_MS);
  }

  running(host: string): Promise<Outcome<OllamaRunningModelsResult>> {
    return outcome(() => this.ollama.ollama_running_models({ host }));
  }

  jobs(host: string): Promise<Outcome<OllamaJob[]>> {
    return outcome(async () => (await this.ollama.ollama_list_jobs({ host })).jobs);
  }

  resources(host: string): Promise<Outcome<HostResourcesResult>> {
    return outcome(() => this.hosts.host_resources({ host }));
  }
}
