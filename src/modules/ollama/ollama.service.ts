import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '../../common/errors.js';
import { countThatFit } from '../../common/result-budget.js';
import { HostRegistry, type Host } from '../../infra/host-registry.js';
import { modelIdentity } from '../../infra/ollama/model-name.js';
import { OllamaAbortError } from '../../infra/ollama/ollama-errors.js';
import { GpuService } from '../gpu/gpu.service.js';
import { DEFAULT_START_WAIT_SECONDS, DEFAULT_STATUS_WAIT_SECONDS } from './dto/ollama-fields.js';
import {
  type OllamaCopyModelInput,
  type OllamaCopyModelResult,
  type OllamaDeleteModelInput,
  type OllamaListModelsInput,
  type OllamaListModelsResult,
  type OllamaModelResult,
  type OllamaRunningModelsInput,
  type OllamaRunningModelsResult,
  type OllamaShowModelInput,
  type OllamaShowModelResult,
  type OllamaUnloadModelInput,
  type OllamaVersionInput,
  type OllamaVersionResult,
} from './dto/ollama-models.dto.js';
import {
  type OllamaCancelJobInput,
  type OllamaCreateModelInput,
  type OllamaJob,
  type OllamaJobParams,
  type OllamaJobStatusInput,
  type OllamaListJobsInput,
  type OllamaListJobsResult,
  type OllamaPullModelInput,
} from './dto/ollama-jobs.dto.js';
import { type OllamaModelFitInput, type OllamaModelFitResult } from './dto/ollama-model-fit.dto.js';
import { JobStore, type JobProgressReport } from './jobs.js';
import { createBody } from './create-body.js';
import { assessModelFit, freeMib } from './model-fit.js';
import { buildModelsDirCommand, parseModelsDirSpace, PullSpaceCheck, type ModelsDirSpace } from './pull-disk-check.js';
import { fitShowResult, putBackLeftOut } from './left-out.js';
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
    private readonly gpu: GpuService,
  ) {}

  async ollama_version(input: OllamaVersionInput): Promise<OllamaVersionResult> {
    const host = this.hosts.get(input.host);
    const { version } = await host.ollama.version();
    return { host: host.name, version, url: host.ollama.baseUrl };
  }

  async ollama_list_models(input: OllamaListModelsInput): Promise<OllamaListModelsResult> {
    const host = this.hosts.get(input.host);
    const { models } = await host.ollama.tags();
    const all = models.map(toModelSummary);
    const shown = input.max_models ?? countThatFit(all, host.config.results.default_max_bytes);
    if (shown >= all.length) return { host: host.name, models: all };
    return {
      host: host.name,
      models: all.slice(0, shown),
      note: `Showing the ${shown} most recently modified of ${all.length} models; pass max_models (e.g. ${all.length}) to list them all.`,
    };
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
    return fitShowResult(result, input.max_bytes ?? host.config.results.default_max_bytes, input.model);
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
      run: async (signal, onProgress) => {
        const space = await this.modelsDirSpace(host);
        if (signal.aborted) throw new OllamaAbortError();
        const check = space && new PullSpaceCheck(host.name, input.model, space);
        // Throwing from onProgress closes the stream, which makes Ollama stop the download.
        return host.ollama.pull(input.model, {
          signal,
          onProgress: (p) => {
            onProgress(p);
            check?.observe(p);
          },
        });
      },
    });
    return this.jobs.wait(job.job_id, (input.wait_seconds ?? DEFAULT_START_WAIT_SECONDS) * 1000, ctx);
  }

  async ollama_create_model(input: OllamaCreateModelInput, ctx: OllamaCallContext = {}): Promise<OllamaJob> {
    const host = this.hosts.get(input.host);
    const body = createBody(input);
    if (input.modelfile !== undefined) await putBackLeftOut(input.modelfile, body, (model) => host.ollama.show(model));
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

  async ollama_model_fit(input: OllamaModelFitInput): Promise<OllamaModelFitResult> {
    const host = this.hosts.get(input.host);
    const target = modelIdentity(input.model);
    const gpuStatus = this.gpu.status({ host: host.name }).then(
      (status) => ({ status }),
      (error: unknown) => ({ error }),
    );
    const [{ models }, shown, running, gpu] = await Promise.all([
      host.ollama.tags(),
      host.ollama.show(input.model),
      host.ollama.ps(),
      gpuStatus,
    ]);
    const installed = models.find((m) => modelIdentity(m.name || m.model) === target);
    if (!installed) {
      throw new AppError(
        404,
        'MODEL_NOT_FOUND',
        `Model '${input.model}' is not installed on host '${host.name}'; see ollama_list_models, or pull it first.`,
      );
    }
    if (typeof installed.size !== 'number' || !Number.isFinite(installed.size) || installed.size < 0) {
      throw new AppError(
        502,
        'OLLAMA_ERROR',
        `Ollama on host '${host.name}' lists '${input.model}' without a size; try again, or check the Ollama server.`,
      );
    }
    const context = input.context_length === undefined ? '' : ` at ${input.context_length} tokens`;
    if (installed.remote_host) {
      const zero = { weights: 0, kv_cache: 0, overhead: 0, total: 0 };
      const free = 'status' in gpu ? gpu.status.gpus.reduce((a, g) => a + freeMib(g), 0) : 0;
      return {
        host: host.name,
        model: input.model,
        context_length: input.context_length ?? installed.details?.context_length ?? 0,
        estimated_vram_mb: zero,
        free_vram_mb: free,
        free_after_unload_mb: free,
        unload: [],
        verdict: 'fits',
        offload_percent: 0,
        explanation: `'${input.model}' is a cloud model: it runs on ${installed.remote_host}${context} and takes no VRAM on this host.`,
      };
    }
    if ('error' in gpu) {
      if (gpu.error instanceof AppError && gpu.error.code === 'GPU_UNAVAILABLE') {
        throw new AppError(503, 'GPU_UNAVAILABLE', `Cannot tell whether '${input.model}' fits in VRAM: ${gpu.error.message}`);
      }
      throw gpu.error;
    }
    const numCtx = parseParametersText(shown.parameters).num_ctx;
    return {
      host: host.name,
      ...assessModelFit({
        model: input.model,
        size_bytes: installed.size,
        model_info: shown.model_info ?? {},
        num_ctx: typeof numCtx === 'number' && Number.isInteger(numCtx) && numCtx > 0 ? numCtx : undefined,
        context_length: input.context_length,
        gpus: gpu.status.gpus,
        loaded: running.models.map((m) => ({
          name: m.name || m.model,
          size_vram_bytes: typeof m.size_vram === 'number' && m.size_vram > 0 ? m.size_vram : 0,
          is_target: modelIdentity(m.name || m.model) === target,
        })),
      }),
    };
  }

  async ollama_job_status(input: OllamaJobStatusInput & OllamaJobParams, ctx: OllamaCallContext = {}): Promise<OllamaJob> {
    this.checkJobHost(input.job_id, input.host);
    return this.jobs.wait(input.job_id, (input.wait_seconds ?? DEFAULT_STATUS_WAIT_SECONDS) * 1000, { signal: ctx.signal });
  }

  async ollama_list_jobs(input: OllamaListJobsInput): Promise<OllamaListJobsResult> {
    const host = input.host === undefined ? undefined : this.hosts.get(input.host).name;
    const all = this.jobs.list(host);
    // No size input (it would cost every chat a few tokens): at most 100 jobs are kept, and the newest matter.
    const shown = countThatFit(all, this.hosts.get(input.host).config.results.default_max_bytes);
    if (shown >= all.length) return { jobs: all };
    return {
      jobs: all.slice(0, shown),
      note: `Showing the ${shown} newest of ${all.length} jobs; ollama_job_status with a job_id shows any of them.`,
    };
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

  /**
   * Free space where the host's Ollama stores models. Null when it cannot be read (no df, an unusual host):
   * the pull then goes ahead unchecked rather than failing over a check of our own.
   */
  private async modelsDirSpace(host: Host): Promise<ModelsDirSpace | null> {
    try {
      const result = await host.transport.exec(buildModelsDirCommand(host.config.ollama_models_dir), {
        timeoutMs: 10_000,
        maxStdoutBytes: 64 << 10,
        maxStderrBytes: 64 << 10,
      });
      return parseModelsDirSpace(result.stdout);
    } catch {
      return null;
    }
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
