/**
 * What the Ollama DTOs share: the model-name field, the wait of the job-starting and job-status calls, and
 * the bound on text fields. (No classes here: the swagger plugin reads only `.dto.ts` files.)
 */
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MODEL_NAME_MAX_LENGTH, MODEL_NAME_REGEX, MODEL_NAME_RULE } from '../../../infra/ollama/model-name.js';

/** Longest wait a call may ask for: below the ~300 s after which Open WebUI's MCP client gives up. */
export const MAX_WAIT_SECONDS = 240;
/** Default wait of ollama_pull_model and ollama_create_model. */
export const DEFAULT_START_WAIT_SECONDS = 20;
/** Default wait of ollama_job_status: answer at once, so "how far along is it?" is quick. */
export const DEFAULT_STATUS_WAIT_SECONDS = 0;
/** Longest text field (system prompt, template, message, license). */
export const MAX_TEXT = 256 * 1024;
/**
 * A field holding an Ollama model name, checked by Ollama's rule. The rule stays out of the schema (it
 * costs a model ~100 tokens per field; a wrong name gets a 400 that states it).
 */
export function ModelName(options: { optional?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ...(options.optional ? [ApiPropertyOptional(), IsOptional()] : [ApiProperty()]),
    IsString(),
    MaxLength(MODEL_NAME_MAX_LENGTH),
    Matches(MODEL_NAME_REGEX, { message: `$property must be ${MODEL_NAME_RULE}` }),
  );
}

/**
 * An optional wait in whole seconds, 0 to MAX_WAIT_SECONDS. `query`: the field arrives as query-string text
 * (ollama_job_status), so it is read as a number first; a JSON body's field must be a number already.
 */
export function WaitSeconds(options: { query?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer' }),
    IsOptional(),
    ...(options.query ? [Type(() => Number)] : []),
    IsInt(),
    Min(0),
    Max(MAX_WAIT_SECONDS),
  );
}
