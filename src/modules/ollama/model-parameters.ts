/**
 * Ollama's model parameters (its Options struct, api/types.go) by name and type: what a Modelfile's
 * PARAMETER lines, ollama_create_model's `parameters` and ollama_show_model's parameter text may hold.
 * One table, so every way of creating a model accepts the same names.
 */

export type ParameterType = 'int' | 'float' | 'bool' | 'string[]';

/** Ollama's Options (api/types.go), including deprecated ones still found in older Modelfiles. */
export const MODELFILE_PARAMETER_TYPES: Readonly<Record<string, ParameterType>> = {
  num_keep: 'int',
  seed: 'int',
  num_predict: 'int',
  top_k: 'int',
  repeat_last_n: 'int',
  mirostat: 'int',
  num_ctx: 'int',
  num_batch: 'int',
  num_gpu: 'int',
  main_gpu: 'int',
  num_thread: 'int',
  num_gqa: 'int',
  top_p: 'float',
  min_p: 'float',
  typical_p: 'float',
  tfs_z: 'float',
  temperature: 'float',
  repeat_penalty: 'float',
  presence_penalty: 'float',
  frequency_penalty: 'float',
  mirostat_tau: 'float',
  mirostat_eta: 'float',
  rope_frequency_base: 'float',
  rope_frequency_scale: 'float',
  penalize_newline: 'bool',
  numa: 'bool',
  low_vram: 'bool',
  f16_kv: 'bool',
  logits_all: 'bool',
  vocab_only: 'bool',
  use_mmap: 'bool',
  use_mlock: 'bool',
  stop: 'string[]',
};

/** The type of a known parameter; undefined for any other name (`__proto__` included). */
export const parameterType = (name: string): ParameterType | undefined =>
  Object.hasOwn(MODELFILE_PARAMETER_TYPES, name) ? MODELFILE_PARAMETER_TYPES[name] : undefined;

/** A decimal number as Go's ParseFloat reads it. The digits before and after the dot are never both open-ended (`\d+\.?\d*` is quadratic on a long run of digits). */
export const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
