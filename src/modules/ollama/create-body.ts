import { AppError } from '../../common/errors.js';
import type { OllamaCreateRequest, OllamaParameterValue } from '../../infra/ollama/ollama-wire-types.js';
import type { OllamaCreateModelInput } from './dto/ollama-jobs.dto.js';
import { parseModelfile } from './modelfile.js';
import { parameterType } from './model-parameters.js';

/** ollama_create_model fields that describe the model; with `modelfile` the Modelfile says all of it. */
export const STRUCTURED_CREATE_FIELDS = ['from', 'system', 'template', 'parameters', 'messages', 'license', 'adapters'] as const;

/** The structured `/api/create` body from either the Modelfile text or the structured fields. */
export function createBody(input: OllamaCreateModelInput): OllamaCreateRequest {
  const given = STRUCTURED_CREATE_FIELDS.filter((f) => input[f] !== undefined);
  if (input.modelfile !== undefined && given.length > 0) {
    throw new AppError(
      400,
      'VALIDATION_FAILED',
      `Invalid input: give either modelfile or the structured fields (${STRUCTURED_CREATE_FIELDS.join(', ')}), not both; ` +
        `${given.join(', ')} ${given.length === 1 ? 'was' : 'were'} given with modelfile. Put ${given.length === 1 ? 'it' : 'them'} into the Modelfile ` +
        '(e.g. PARAMETER temperature 0.6, SYSTEM """…"""), or leave out modelfile.',
    );
  }
  if (input.modelfile !== undefined) {
    const body: OllamaCreateRequest = { model: input.model, ...parseModelfile(input.modelfile) };
    if (input.quantize !== undefined) body.quantize = input.quantize;
    return body;
  }
  if (input.from === undefined) {
    throw new AppError(
      400,
      'VALIDATION_FAILED',
      'Invalid input: from: required when no modelfile is given (the model to build on, e.g. "llama3.2"); or pass the whole Modelfile text in modelfile.',
    );
  }
  const body: OllamaCreateRequest = { model: input.model, from: input.from };
  if (input.system !== undefined) body.system = input.system;
  if (input.template !== undefined) body.template = input.template;
  if (input.parameters !== undefined) body.parameters = normalizeParameters(input.parameters);
  if (input.messages !== undefined) body.messages = input.messages.map((m) => ({ role: m.role, content: m.content }));
  if (input.license !== undefined) body.license = input.license;
  if (input.adapters !== undefined) body.adapters = { ...input.adapters };
  if (input.quantize !== undefined) body.quantize = input.quantize;
  return body;
}

/** A list parameter (`stop`) may be given as one string; Ollama wants a list. */
function normalizeParameters(parameters: Record<string, OllamaParameterValue>): Record<string, OllamaParameterValue> {
  return Object.fromEntries(
    Object.entries(parameters).map(([k, v]) => [k, parameterType(k) === 'string[]' && typeof v === 'string' ? [v] : v]),
  );
}
