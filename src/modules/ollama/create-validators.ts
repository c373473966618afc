import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { MODELFILE_PARAMETER_TYPES, parameterType } from './model-parameters.js';

/*
 * Validators for the map-shaped fields of ollama_create_model. class-validator has no "object of X"
 * rule, and Ollama itself would only answer with a Go decode error, so the rules live here: the same
 * parameter names and types as the Modelfile parser, so both ways of creating accept the same things.
 */

export const MAX_PARAMETERS = 64;
export const MAX_STOP_WORDS = 32;
export const MAX_STOP_CHARS = 1000;
export const MAX_ADAPTERS = 8;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why `value` is not a valid `parameters` object, or undefined when it is. */
export function parametersProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'must be an object such as {"temperature": 0.6, "num_ctx": 8192}';
  const entries = Object.entries(value);
  if (entries.length > MAX_PARAMETERS) return `may hold at most ${MAX_PARAMETERS} parameters`;
  for (const [name, v] of entries) {
    const type = parameterType(name);
    switch (type) {
      case undefined:
        return `has an unknown parameter '${name}'; known parameters are ${Object.keys(MODELFILE_PARAMETER_TYPES).join(', ')}`;
      case 'int':
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) return `${name} must be a whole number`;
        break;
      case 'float':
        if (typeof v !== 'number' || !Number.isFinite(v)) return `${name} must be a number such as 0.7`;
        break;
      case 'bool':
        if (typeof v !== 'boolean') return `${name} must be true or false`;
        break;
      case 'string[]': {
        const list = typeof v === 'string' ? [v] : v;
        if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '' || s.length > MAX_STOP_CHARS)) {
          return `${name} must be a list of non-empty strings (at most ${MAX_STOP_CHARS} characters each), e.g. ["<|eot_id|>"]`;
        }
        if (list.length > MAX_STOP_WORDS) return `${name} may hold at most ${MAX_STOP_WORDS} strings`;
        break;
      }
    }
  }
  return undefined;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const BLOB_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Why `value` is not a valid `adapters` map, or undefined when it is. */
export function adaptersProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'must be an object mapping a file name to the sha256:<hex> digest of a blob on the Ollama host';
  const entries = Object.entries(value);
  if (entries.length === 0) return 'must name at least one adapter blob';
  if (entries.length > MAX_ADAPTERS) return `may hold at most ${MAX_ADAPTERS} entries`;
  for (const [file, digest] of entries) {
    if (!FILE_NAME.test(file)) return `has an invalid file name '${file.slice(0, 80)}' (letters, digits, '_', '-', '.'; no paths)`;
    if (typeof digest !== 'string' || !BLOB_DIGEST.test(digest))
      return `${file} must be a blob digest 'sha256:' followed by 64 lowercase hex digits`;
  }
  return undefined;
}

function byProblem(name: string, problem: (value: unknown) => string | undefined, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? name} ${problem(args?.value) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

export const IsModelParameters = (options?: ValidationOptions) => byProblem('isModelParameters', parametersProblem, options);
export const IsAdapterMap = (options?: ValidationOptions) => byProblem('isAdapterMap', adaptersProblem, options);
