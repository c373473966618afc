import { defineOperation } from '../../common/operation.js';
import {
  OllamaCancelJobInput,
  OllamaCopyModelInput,
  OllamaCopyModelResult,
  OllamaCreateModelInput,
  OllamaDeleteModelInput,
  OllamaJob,
  OllamaJobParams,
  OllamaJobStatusInput,
  OllamaListJobsInput,
  OllamaListJobsResult,
  OllamaListModelsInput,
  OllamaListModelsResult,
  OllamaModelFitInput,
  OllamaModelFitResult,
  OllamaModelResult,
  OllamaPullModelInput,
  OllamaRunningModelsInput,
  OllamaRunningModelsResult,
  OllamaShowModelInput,
  OllamaShowModelResult,
  OllamaUnloadModelInput,
  OllamaVersionInput,
  OllamaVersionResult,
} from './dto/ollama.dto.js';
import { DEFAULT_JOB_RETENTION_MINUTES, DEFAULT_MAX_FINISHED_JOBS } from './jobs.js';
import { OllamaService } from './ollama.service.js';

/*
 * Annotations: pull and create are idempotent (the same call again leaves the same model) and report
 * progress; create, copy and delete are destructive because they replace or remove a model without asking
 * (create and copy silently overwrite an existing model of the target name). Pull may update a model to the
 * registry's newer version, which is what the user asked for, so it is not marked destructive.
 */

const JOB_HINT =
  "Returns a job: job_id, state (running/succeeded/failed/cancelled), status (Ollama's latest line), completed_bytes, total_bytes, percent, error. " +
  'If it is still running when wait_seconds is up, tell the user the percent and follow it with ollama_job_status (its wait_seconds waits for the end).';

export const ollamaVersion = defineOperation({
  id: 'ollama_version',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/version',
  scope: 'read',
  summary: 'Ollama version',
  description:
    'Returns the version of the Ollama server on the host and the URL this server uses to reach it. Use it to check that Ollama is up.',
  input: OllamaVersionInput,
  output: OllamaVersionResult,
  service: OllamaService,
  idempotent: true,
});

export const ollamaListModels = defineOperation({
  id: 'ollama_list_models',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/models',
  scope: 'read',
  summary: 'List installed Ollama models',
  description:
    'Lists the models installed in Ollama on the host ("what models are installed?"): name, size_bytes, size_gb, modified_at, family, parameter_size, quantization_level, format, digest and, on newer Ollama, capabilities. Use the names in the other ollama_* tools.',
  input: OllamaListModelsInput,
  output: OllamaListModelsResult,
  service: OllamaService,
  idempotent: true,
});

export const ollamaShowModel = defineOperation({
  id: 'ollama_show_model',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/model',
  scope: 'read',
  summary: 'Show a model and its Modelfile',
  description:
    'Shows one installed model: its Modelfile text, parameters as an object (e.g. temperature, num_ctx, stop), template, system prompt, details (family, parameter size, quantization), capabilities and GGUF metadata. To change a model (e.g. "set temperature to 0.6"), edit the returned modelfile and pass it to ollama_create_model with the same model name.',
  input: OllamaShowModelInput,
  output: OllamaShowModelResult,
  service: OllamaService,
  idempotent: true,
});

export const ollamaRunningModels = defineOperation({
  id: 'ollama_running_models',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/running',
  scope: 'read',
  summary: 'Models loaded in memory',
  description:
    'Lists the models Ollama has loaded in memory right now, with size_bytes, size_vram_bytes (GPU memory they hold), gpu_percent (100 = fully on the GPU), context_length and expires_at (when Ollama unloads it if unused). Use it for "what is using the GPU?"; free memory with ollama_unload_model.',
  input: OllamaRunningModelsInput,
  output: OllamaRunningModelsResult,
  service: OllamaService,
  idempotent: true,
});

export const ollamaModelFit = defineOperation({
  id: 'ollama_model_fit',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/fit',
  scope: 'read',
  summary: 'Will a model fit in VRAM?',
  description:
    'Estimates the VRAM an installed model needs at a context length and compares it with the free GPU memory: verdict fits, fits_after_unload (unload lists what to unload), partial_offload (offload_percent on CPU) or does_not_fit, with the numbers.',
  input: OllamaModelFitInput,
  output: OllamaModelFitResult,
  service: OllamaService,
  idempotent: true,
});

export const ollamaPullModel = defineOperation({
  id: 'ollama_pull_model',
  area: 'ollama',
  method: 'POST',
  path: '/ollama/pull',
  scope: 'write',
  summary: 'Download a model (as a job)',
  description:
    'Downloads a model into Ollama on the host ("pull gemma:2b"), or updates an installed one. The download runs as a background job; this call waits up to wait_seconds (default 20, at most 240) and returns the job, finished or not. Pulling a model that is already being pulled on that host returns the running job instead of starting another. ' +
    JOB_HINT,
  input: OllamaPullModelInput,
  output: OllamaJob,
  service: OllamaService,
  idempotent: true,
  progress: true,
});

export const ollamaCreateModel = defineOperation({
  id: 'ollama_create_model',
  area: 'ollama',
  method: 'POST',
  path: '/ollama/create',
  scope: 'write',
  summary: 'Create or replace a model (as a job)',
  description:
    'Creates a model in Ollama, replacing any model of that name: either from Modelfile text (`modelfile`, e.g. the one ollama_show_model returned with a PARAMETER line changed) or from structured fields (`from` plus system, template, parameters, messages, license, adapters), not both. Runs as a job like ollama_pull_model: waits up to wait_seconds (default 20, at most 240). ' +
    JOB_HINT,
  input: OllamaCreateModelInput,
  output: OllamaJob,
  service: OllamaService,
  destructive: true,
  idempotent: true,
  progress: true,
});

export const ollamaJobStatus = defineOperation({
  id: 'ollama_job_status',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/jobs/:job_id',
  scope: 'read',
  summary: 'Progress of a pull or create job',
  description: `Returns a pull or create job ("how far along is the pull?"): state running/succeeded/failed/cancelled, status line, completed_bytes, total_bytes, percent and error. Answers at once by default; with wait_seconds (at most 240) it waits for the job to finish and answers as soon as it does. Finished jobs are kept for ${DEFAULT_JOB_RETENTION_MINUTES} minutes.`,
  input: OllamaJobStatusInput,
  params: OllamaJobParams,
  output: OllamaJob,
  service: OllamaService,
  idempotent: true,
});

export const ollamaListJobs = defineOperation({
  id: 'ollama_list_jobs',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/jobs',
  scope: 'read',
  summary: 'List pull and create jobs',
  description: `Lists running and recently finished pull and create jobs, newest first, each with state, status, percent and error. Use it to find a job_id, or to see what is being downloaded. Finished jobs are kept for ${DEFAULT_JOB_RETENTION_MINUTES} minutes (at most ${DEFAULT_MAX_FINISHED_JOBS}).`,
  input: OllamaListJobsInput,
  output: OllamaListJobsResult,
  service: OllamaService,
  idempotent: true,
});

export const ollamaCancelJob = defineOperation({
  id: 'ollama_cancel_job',
  area: 'ollama',
  method: 'POST',
  path: '/ollama/jobs/:job_id/cancel',
  scope: 'write',
  summary: 'Cancel a pull or create job',
  description:
    'Stops a running pull or create job: the connection to Ollama is closed, so Ollama stops downloading (pulling the same model again later resumes where it stopped). Returns the job, now cancelled; a job that had already finished is returned unchanged.',
  input: OllamaCancelJobInput,
  params: OllamaJobParams,
  output: OllamaJob,
  service: OllamaService,
  idempotent: true,
});

export const ollamaCopyModel = defineOperation({
  id: 'ollama_copy_model',
  area: 'ollama',
  method: 'POST',
  path: '/ollama/copy',
  scope: 'write',
  summary: 'Copy a model under a new name',
  description:
    'Copies an installed model to a new name (e.g. a backup before changing it). An existing model named like the destination is replaced without asking. Takes no extra disk space (layers are shared). Returns source and destination.',
  input: OllamaCopyModelInput,
  output: OllamaCopyModelResult,
  service: OllamaService,
  destructive: true,
  idempotent: true,
});

export const ollamaDeleteModel = defineOperation({
  id: 'ollama_delete_model',
  area: 'ollama',
  method: 'POST',
  path: '/ollama/delete',
  scope: 'write',
  summary: 'Delete a model',
  description:
    'Deletes an installed model from the host, freeing the disk space of layers no other model uses. This cannot be undone (the model would have to be pulled or created again); confirm with the user first. Returns the model name.',
  input: OllamaDeleteModelInput,
  output: OllamaModelResult,
  service: OllamaService,
  destructive: true,
  idempotent: true,
});

export const ollamaUnloadModel = defineOperation({
  id: 'ollama_unload_model',
  area: 'ollama',
  method: 'POST',
  path: '/ollama/unload',
  scope: 'write',
  summary: 'Unload a model from memory',
  description:
    'Unloads a model from GPU and system memory right away ("free the GPU"), instead of waiting for its keep-alive to expire; the model stays installed and loads again on its next use. Ollama unloads in the background, so ollama_running_models may list it for a moment longer. Returns the model name.',
  input: OllamaUnloadModelInput,
  output: OllamaModelResult,
  service: OllamaService,
  idempotent: true,
});
