import type { OllamaListModel, OllamaParameterValue, OllamaRunningModel } from '../../infra/ollama/ollama-wire-types.js';
import type { OllamaModelSummary, OllamaRunningModel as RunningModelDto } from './dto/ollama-models.dto.js';
import { FLOAT, parameterType } from './model-parameters.js';

/*
 * Pure conversions from Ollama's JSON to this API's snake_case results. Sizes: `_bytes` as Ollama reports
 * them, `_gb` in decimal gigabytes (10^9, two decimals), the unit Ollama's own CLI and library pages use.
 */

export const bytesToGb = (bytes: number) => Math.round((bytes / 1e9) * 100) / 100;

// The results are the response DTOs' own shapes (one definition of the field names).
export type ModelSummary = OllamaModelSummary;
export type RunningModelSummary = RunningModelDto;

const orNull = (s: string | undefined | null) => (typeof s === 'string' && s !== '' ? s : null);

export function toModelSummary(m: OllamaListModel): ModelSummary {
  const out: ModelSummary = {
    name: m.name || m.model,
    size_bytes: m.size,
    size_gb: bytesToGb(m.size),
    modified_at: m.modified_at,
    family: orNull(m.details?.family),
    parameter_size: orNull(m.details?.parameter_size),
    quantization_level: orNull(m.details?.quantization_level),
    format: orNull(m.details?.format),
    digest: m.digest,
  };
  if (Array.isArray(m.capabilities)) out.capabilities = m.capabilities;
  if (m.remote_host) out.remote_host = m.remote_host;
  return out;
}

export function toRunningModel(m: OllamaRunningModel): RunningModelSummary {
  const vram = m.size_vram ?? 0;
  return {
    name: m.name || m.model,
    size_bytes: m.size,
    size_gb: bytesToGb(m.size),
    size_vram_bytes: vram,
    size_vram_gb: bytesToGb(vram),
    // What `ollama ps` shows as "100% GPU" / "48%/52% CPU/GPU": the share of the model held in VRAM.
    gpu_percent: m.size > 0 ? Math.round((vram / m.size) * 100) : 0,
    expires_at: m.expires_at,
    context_length: typeof m.context_length === 'number' ? m.context_length : null,
    family: orNull(m.details?.family),
    parameter_size: orNull(m.details?.parameter_size),
    quantization_level: orNull(m.details?.quantization_level),
    digest: m.digest,
  };
}

/**
 * `show`'s `parameters` is text, one `name<padding>value` per line, written with Go's `%#v` (strings quoted,
 * numbers and booleans bare), a list parameter (`stop`) one line per value. The result is an object with typed
 * values; list parameters are always arrays, and any other name that repeats becomes one too.
 */
export function parseParametersText(text: string | undefined): Record<string, OllamaParameterValue> {
  // A Map, then fromEntries: a parameter named `__proto__` must stay a plain key.
  const out = new Map<string, OllamaParameterValue>();
  if (!text) return {};
  for (const line of text.split(/\r?\n/)) {
    // `name<whitespace>value`, split by hand: the regex /^\s*(\S+)\s+(.*?)\s*$/ is quadratic on a long
    // run of spaces inside the value, and the text comes from the host.
    const start = line.trimStart();
    const gap = start.search(/\s/);
    if (gap <= 0) continue;
    const name = start.slice(0, gap);
    const value = typedValue(name, start.slice(gap).trim());
    const isList = parameterType(name) === 'string[]';
    const existing = out.get(name);
    if (existing === undefined) {
      out.set(name, isList ? [String(value)] : value);
    } else if (Array.isArray(existing)) {
      existing.push(String(value));
    } else {
      out.set(name, [String(existing), String(value)]);
    }
  }
  return Object.fromEntries(out);
}

function typedValue(name: string, raw: string): number | boolean | string {
  if (raw.startsWith('"')) return goUnquote(raw);
  if (parameterType(name) === 'string[]') return raw;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  // Go prints large floats as 1e+06; Number() reads that.
  if (FLOAT.test(raw)) return Number(raw);
  return raw;
}

/** strconv.Quote output back to text: JSON understands all of it except \a, \v, \xHH, \UHHHHHHHH and \'. */
function goUnquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    const jsonish = quoted.replace(/\\\\|\\a|\\v|\\'|\\x([0-9a-fA-F]{2})|\\U([0-9a-fA-F]{8})/g, (seq, hex?: string, wide?: string) => {
      if (seq === '\\\\') return seq;
      if (seq === '\\a') return '\\u0007';
      if (seq === '\\v') return '\\u000b';
      if (seq === "\\'") return "'";
      const code = parseInt((hex ?? wide) as string, 16);
      return JSON.stringify(String.fromCodePoint(code)).slice(1, -1);
    });
    try {
      return JSON.parse(jsonish) as string;
    } catch {
      return quoted.replace(/^"|"$/g, '');
    }
  }
}
