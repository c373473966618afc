import { defineOperation } from '../../operations/operation.js';
import {
  OllamaCopyModelInput,
  OllamaCopyModelResult,
  OllamaDeleteModelInput,
  OllamaListModelsInput,
  OllamaListModelsResult,
  OllamaModelResult,
  OllamaRunningModelsInput,
  OllamaRunningModelsResult,
  OllamaShowModelInput,
  OllamaShowModelResult,
  OllamaUnloadModelInput,
  OllamaVersionInput,
  OllamaVersionResult,
} from './dto/ollama-models.dto.js';
import {
  OllamaCancelJobInput,
  OllamaCreateModelInput,
  OllamaJob,
  OllamaJobParams,
  OllamaJobStatusInput,
  OllamaListJobsInput,
  OllamaListJobsResult,
  OllamaPullModelInput,
} from './dto/ollama-jobs.dto.js';
import { OllamaModelFitInput, OllamaModelFitResult } from './dto/ollama-model-fit.dto.js';
import { OllamaService } from './ollama.service.js';

/*
 * Annotations: pull and create are idempotent (the same call again leaves the same model) and report
 * progress; create, copy and delete are destructive because they replace or remove a model without asking
 * (create and copy silently overwrite an existing model of the target name). Pull may update a model to the
 * registry's newer version, which is what the user asked for, so it is not marked destructive.
 */

export const ollamaVersion = defineOperation({
  id: 'ollama_version',
  area: 'ollama',
  method: 'GET',
  path: '/ollama/version',
  scope: 'read',
  summary: 'Ollama version',
  description: 'Ollama version and URL; use it to check that Ollama is up.',
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
  description: 'Installed Ollama models with size, family, parameter size and quantization ("what models are installed?").',
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
    "A model's Modelfile, parameters, template, system prompt and details. To change the model, edit the modelfile and pass it to ollama_create_model.",
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
  description: 'Models loaded in memory now, with GPU memory held and expires_at ("what is loaded on the GPU?").',
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
  description: 'Whether an installed model fits in GPU memory ("can I run llama3:70b here?"), with the numbers.',
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
    'Downloads or updates a model as a job ("pull gemma:2b") and returns the job after wait_seconds. If still running, tell the user the percent and poll ollama_job_status.',
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
    "Creates or replaces a model from Modelfile text, e.g. ollama_show_model's with a line changed. Runs as a job like ollama_pull_model.",
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
  description: 'State, percent and error of a pull or create job ("how far along is it?").',
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
  description: 'Recent pull and create jobs with state and percent.',
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
  description: 'Stops a running pull or create job (pulling again later resumes the download).',
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
  description: 'Copies a model to a new name, e.g. a backup before changing it.',
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
  description: 'Deletes an installed model. Cannot be undone: confirm with the user first.',
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
  description: 'Unloads a model from GPU and RAM now ("free the GPU"); it stays installed.',
  input: OllamaUnloadModelInput,
  output: OllamaModelResult,
  service: OllamaService,
  idempotent: true,
});
