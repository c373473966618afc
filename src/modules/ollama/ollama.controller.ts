import { Body, Controller, Param, Query } from '@nestjs/common';
import { ClientSignal } from '../../common/client-signal.js';
import { Operation } from '../../operations/operation.js';
import {
  OllamaCopyModelInput,
  OllamaDeleteModelInput,
  OllamaListModelsInput,
  OllamaRunningModelsInput,
  OllamaShowModelInput,
  OllamaUnloadModelInput,
  OllamaVersionInput,
} from './dto/ollama-models.dto.js';
import {
  OllamaCancelJobInput,
  OllamaCreateModelInput,
  OllamaJobParams,
  OllamaJobStatusInput,
  OllamaListJobsInput,
  OllamaPullModelInput,
} from './dto/ollama-jobs.dto.js';
import { OllamaModelFitInput } from './dto/ollama-model-fit.dto.js';
import {
  ollamaCancelJob,
  ollamaCopyModel,
  ollamaCreateModel,
  ollamaDeleteModel,
  ollamaJobStatus,
  ollamaListJobs,
  ollamaListModels,
  ollamaModelFit,
  ollamaPullModel,
  ollamaRunningModels,
  ollamaShowModel,
  ollamaUnloadModel,
  ollamaVersion,
} from './ollama.operations.js';
import { OllamaService } from './ollama.service.js';

/*
 * The client signal only ends a wait early when the HTTP client goes away; the job itself goes on (it is
 * cancelled only by ollama_cancel_job), so a dropped connection never loses a half-done download.
 */
@Controller()
export class OllamaController {
  constructor(private readonly ollama: OllamaService) {}

  @Operation(ollamaVersion)
  ollama_version(@Query() input: OllamaVersionInput) {
    return this.ollama.ollama_version(input);
  }

  @Operation(ollamaListModels)
  ollama_list_models(@Query() input: OllamaListModelsInput) {
    return this.ollama.ollama_list_models(input);
  }

  @Operation(ollamaShowModel)
  ollama_show_model(@Query() input: OllamaShowModelInput) {
    return this.ollama.ollama_show_model(input);
  }

  @Operation(ollamaRunningModels)
  ollama_running_models(@Query() input: OllamaRunningModelsInput) {
    return this.ollama.ollama_running_models(input);
  }

  @Operation(ollamaModelFit)
  ollama_model_fit(@Query() input: OllamaModelFitInput) {
    return this.ollama.ollama_model_fit(input);
  }

  @Operation(ollamaPullModel)
  ollama_pull_model(@Body() input: OllamaPullModelInput, @ClientSignal() signal: AbortSignal) {
    return this.ollama.ollama_pull_model(input, { signal });
  }

  @Operation(ollamaCreateModel)
  ollama_create_model(@Body() input: OllamaCreateModelInput, @ClientSignal() signal: AbortSignal) {
    return this.ollama.ollama_create_model(input, { signal });
  }

  @Operation(ollamaListJobs)
  ollama_list_jobs(@Query() input: OllamaListJobsInput) {
    return this.ollama.ollama_list_jobs(input);
  }

  @Operation(ollamaJobStatus)
  ollama_job_status(@Param() params: OllamaJobParams, @Query() query: OllamaJobStatusInput, @ClientSignal() signal: AbortSignal) {
    return this.ollama.ollama_job_status({ ...query, ...params }, { signal });
  }

  // No body: Open WebUI sends `{}` for a POST whose operation declares none, and that is ignored here.
  @Operation(ollamaCancelJob)
  ollama_cancel_job(@Param() params: OllamaJobParams, @Query() query: OllamaCancelJobInput) {
    return this.ollama.ollama_cancel_job({ ...query, ...params });
  }

  @Operation(ollamaCopyModel)
  ollama_copy_model(@Body() input: OllamaCopyModelInput) {
    return this.ollama.ollama_copy_model(input);
  }

  @Operation(ollamaDeleteModel)
  ollama_delete_model(@Body() input: OllamaDeleteModelInput) {
    return this.ollama.ollama_delete_model(input);
  }

  @Operation(ollamaUnloadModel)
  ollama_unload_model(@Body() input: OllamaUnloadModelInput) {
    return this.ollama.ollama_unload_model(input);
  }
}
