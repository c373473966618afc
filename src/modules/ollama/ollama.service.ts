import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '../../common/errors.js';
import { HostRegistry } from '../../infra/host-registry.js';
import {
  DEFAULT_START_WAIT_SECONDS,
  DEFAULT_STATUS_WAIT_SECONDS,
  type OllamaCancelJobInput,
  type OllamaCopyModelInput,
  type OllamaCopyModelResult,
  type OllamaCreateModelInput,
  type OllamaDeleteModelInput,
  type OllamaJob,
  type OllamaJobParams,
  type OllamaJobStatusInput,
  type OllamaListJobsInput,
  type OllamaListJobsResult,
  type OllamaListModelsInput,
  type OllamaListModelsResult,
  type OllamaModelResult,
  type OllamaPullModelInput,
  type OllamaRunningModelsInput,
  type OllamaRunningModelsResult,
  type OllamaShowModelInput,
  type OllamaShowModelResult,
  type OllamaUnloadModelInput,
  type OllamaVersionInput,
  type OllamaVersionResult,
} from './dto/ollama.dto.js';
import { JobStore, type JobProgressReport } from './jobs.js';
import { createBody } from './create-body.js';
import { parseParametersText, toModelSummary, toRunningModel } from './ollama-format.js';

/** What the MCP surface hands to pull and create (REST passes nothing). */
export interface OllamaCallContext {
  onProgress?: (report: JobProgressReport) => void;
  signal?: AbortSignal;
}

@Injectable()
export class OllamaService implements OnApplicationShutdown {
  constructor(
    private readonly hosts: HostRegistry,
    private readonly jobs: JobStore,
  ) {}

  async ollama_version(input: OllamaVersionInput): Promise<OllamaVersionResult> {
    const host = this.hosts.get(input.host);
    const { version } = await host.ollama.version();
    return { host: host.name, version, url: host.ollama.baseUrl };
  }

  async ollama_list_models(input: OllamaListModelsInput): Promise<OllamaListModelsResult> {
    const host = this.hosts.get(input.host);
    const { models } = await host.ollama.tags();
    return { host: host.name, models: models.map(toModelSummary) };
  }

  async ollama_show_model(input: OllamaShowModelInput): Promise<OllamaShowModelResult> {
    const host = this.hosts.get(input.host);
    const shown = await host.ollama.show(input.model);
    // `license` is left out: its full text is already in the Modelfile's LICENSE lines, and it is long.
    const result: OllamaShowModelResult = {
      host: host.name,
      model: input.model,
      modelfile: shown.modelfile ?? '',
      parameters: parseParametersText(shown.parameters),
      template: shown.template ?? null,
      system: shown.system ?? null,
      details: shown.details ?? {},
      capabilities: shown.capabilities ?? [],
      model_info: shown.model_info ?? {},
    };
    if (shown.messages?.length) result.messages = shown.messages;
    if (shown.modified_at) result.modified_at = shown.modified_at;
    return result;
  }

  async ollama_running_models(input: OllamaRunningModelsInput): Promise<OllamaRunningModelsResult> {
    const host = this.hosts.get(input.host);
    const { models } = await host.ollama.ps();
    return { host: host.name, models: models.map(toRunningModel) };
  }

  async ollama_pull_model(input: OllamaPullModelInput, ctx: OllamaCallContext = {}): Promise<OllamaJob> {
    const host = this.hosts.get(input.host);
    const { job } = this.jobs.start({
      kind: 'pull',
      host: host.name,
      model: input.model,
      run: (signal, onProgress) => host.ollama.pull(input.model, { signal, onProgress }),
    });
    return this.jobs.wait(job.job_id, (input.wait_seconds ?? DEFAULT_START_WAIT_SECONDS) * 1000, ctx);
  }

  async ollama_create_model(input: OllamaCreateModelInput, ctx: OllamaCallContext = {}): Promise<OllamaJob> {
    const host = this.hosts.get(input.host);
    const body = createBody(input);
    const { job } = this.jobs.start({
      kind: 'create',
      host: host.name,
      model: input.model,
      // A retry of the same create joins the running job; a different one for the same name is a conflict.
      fingerprint: JSON.stringify(body),
      run: (signal, onProgress) => host.ollama.create(body, { signal, onProgress }),
    });
    return this.jobs.wait(job.job_id, (input.wait_seconds ?? DEFAULT_START_WAIT_SECONDS) * 1000, ctx);
  }

  async ollama_job_status(input: OllamaJobStatusInput & OllamaJobParams, ctx: OllamaCallContext = {}): Promise<OllamaJob> {
    this.checkJobHost(input.job_id, input.host);
    return this.jobs.wait(input.job_id, (input.wait_seconds ?? DEFAULT_STATUS_WAIT_SECONDS) * 1000, { signal: ctx.signal });
  }

  async ollama_list_jobs(input: OllamaListJobsInput): Promise<OllamaListJobsResult> {
    const host = input.host === undefined ? undefined : this.hosts.get(input.host).name;
    return { jobs: this.jobs.list(host) };
  }

  async ollama_cancel_job(input: OllamaCancelJobInput & OllamaJobParams): Promise<OllamaJob> {
    this.checkJobHost(input.job_id, input.host);
    return this.jobs.cancel(input.job_id);
  }

  async ollama_copy_model(input: OllamaCopyModelInput): Promise<OllamaCopyModelResult> {
    const host = this.hosts.get(input.host);
    await host.ollama.copy(input.source, input.destination);
    return { host: host.name, source: input.source, destination: input.destination };
  }

  async ollama_delete_model(input: OllamaDeleteModelInput): Promise<OllamaModelResult> {
    const host = this.hosts.get(input.host);
    await host.ollama.delete(input.model);
    return { host: host.name, model: input.model };
  }

  async ollama_unload_model(input: OllamaUnloadModelInput): Promise<OllamaModelResult> {
    const host = this.hosts.get(input.host);
    await host.ollama.unload(input.model);
    return { host: host.name, model: input.model };
  }

  onApplicationShutdown(): void {
    // Closing the streams tells Ollama to stop; a later pull resumes the partial download.
    this.jobs.cancelAll();
  }

  /** Jobs are found by id alone; a `host` that names another host is a mistake worth saying. */
  private checkJobHost(jobId: string, hostName: string | undefined): void {
    if (hostName === undefined) return;
    const host = this.hosts.get(hostName);
    const job = this.jobs.get(jobId);
    if (job.host !== host.name) {
      throw new AppError(
        404,
        'JOB_NOT_FOUND',
        `Job '${jobId}' runs on host '${job.host}', not '${host.name}'; call again with host '${job.host}' or without host.`,
      );
    }
  }
}
