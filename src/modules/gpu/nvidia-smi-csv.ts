/**
 * Reading nvidia-smi's `--format=csv,noheader,nounits` answers and its `--version` text: the "no value"
 * tokens, rows keyed by field name (whichever alias was queried), numbers, the throttle-reason bitmask, and
 * the GPU and process rows of gpu_status. Pure: tested on the captured outputs of several drivers.
 */
import { clip } from '../../common/text.js';
import type { GpuInfo, GpuProcess } from './dto/gpu.dto.js';
import { APP_QUERY_FIELDS, GPU_FIELD_NAMES, GPU_QUERY_FIELDS } from './gpu-fields.js';

/**
 * nvidia-smi's "no value" spellings. Bracketed ones are what `--query-*` prints; bare `N/A` comes from older
 * drivers (440.64 in the fixtures); `ERR!` is the table's spelling, accepted in case a driver leaks it.
 * Any other `[...]` token is treated the same way: brackets are nvidia-smi's convention for "not a value".
 */
const NO_VALUE = new Set([
  '',
  'N/A',
  '[N/A]',
  '[Not Supported]',
  '[Insufficient Permissions]',
  '[Unknown Error]',
  '[Requested functionality has been deprecated]',
  '[Function Not Found]',
  'ERR!',
]);

export function isNoValue(raw: string): boolean {
  const v = raw.trim();
  return NO_VALUE.has(v) || /^\[[^\]]*\]$/.test(v);
}

/** Field value as text, or null for nvidia-smi's "no value" tokens. */
export function nvidiaSmiText(raw: string): string | null {
  return isNoValue(raw) ? null : raw.trim();
}

const NUMBER_RE = /^-?\d+(\.\d+)?$/;

export type CsvRow = Record<string, string | null>;

/** The answer is not in the form asked for; the caller turns it into an error naming the host. */
export class CsvShapeError extends Error {}

/**
 * Split nvidia-smi CSV (no quoting, `", "` between values) into rows keyed by field name. A row with fewer
 * columns than fields, or with more when no column may hold commas, is an error: guessing would shift every
 * value into the wrong field. Surplus commas are rejoined into `joinField` (only process names hold them).
 */
export function parseNvidiaSmiCsv(text: string, fields: readonly string[], joinField?: string): CsvRow[] {
  const joinAt = joinField === undefined ? -1 : fields.indexOf(joinField);
  const rows: CsvRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    let parts = line.split(',');
    if (parts.length > fields.length && joinAt >= 0) {
      const surplus = parts.length - fields.length;
      parts = [...parts.slice(0, joinAt), parts.slice(joinAt, joinAt + surplus + 1).join(','), ...parts.slice(joinAt + surplus + 1)];
    }
    if (parts.length !== fields.length) {
      throw new CsvShapeError(
        `a row has ${parts.length} columns where ${fields.length} (${fields.join(',')}) were expected: "${clip(line, 300)}"`,
      );
    }
    const row: CsvRow = {};
    fields.forEach((f, i) => (row[f] = nvidiaSmiText(parts[i])));
    rows.push(row);
  }
  return rows;
}

function num(row: CsvRow, field: string): number | null {
  const v = row[field];
  if (v === undefined || v === null) return null;
  if (!NUMBER_RE.test(v)) throw new CsvShapeError(`field ${field} holds "${clip(v, 300)}", not a number`);
  return Number(v);
}

/** Accepts a field under any of its nvidia-smi aliases (`--help-query-*` lists them as `"a" or "b"`). */
function pick(row: CsvRow, ...names: string[]): CsvRow {
  for (const n of names) if (n in row) return { [names[0]]: row[n] };
  return { [names[0]]: null };
}

function required<T>(value: T | null, field: string): T {
  if (value === null) throw new CsvShapeError(`a row has no value for ${field}`);
  return value;
}

/**
 * NVML's clocks event (throttle) reason bits, named as nvidia-smi names the matching
 * `clocks_event_reasons.*` fields.
 */
export const THROTTLE_REASON_BITS: readonly (readonly [number, string])[] = [
  [0x1, 'gpu_idle'],
  [0x2, 'applications_clocks_setting'],
  [0x4, 'sw_power_cap'],
  [0x8, 'hw_slowdown'],
  [0x10, 'sync_boost'],
  [0x20, 'sw_thermal_slowdown'],
  [0x40, 'hw_thermal_slowdown'],
  [0x80, 'hw_power_brake_slowdown'],
  [0x100, 'display_clock_setting'],
];

/** `0x0000000000000004` -> ["sw_power_cap"]; bits NVML may add later come out as `other_0x...`. */
export function throttleReasonWords(mask: string | null | undefined): string[] | null {
  if (mask === null || mask === undefined || !/^0x[0-9a-fA-F]{1,16}$/.test(mask)) return null;
  let bits = BigInt(mask);
  const words: string[] = [];
  for (const [bit, word] of THROTTLE_REASON_BITS) {
    if (bits & BigInt(bit)) words.push(word);
    bits &= ~BigInt(bit);
  }
  if (bits !== 0n) words.push(`other_0x${bits.toString(16)}`);
  return words;
}

/** For the detail fields: a value in an unexpected form is null rather than a failed answer. */
function optionalNum(row: CsvRow, field: string): number | null {
  const v = row[field];
  return v !== undefined && v !== null && NUMBER_RE.test(v) ? Number(v) : null;
}

function enabled(row: CsvRow, field: string): boolean | null {
  const v = row[field]?.toLowerCase();
  return v === 'enabled' ? true : v === 'disabled' ? false : null;
}

/** The row under the first name of each value, whichever of its names was queried. */
function canonicalGpuRow(row: CsvRow): CsvRow {
  const r: CsvRow = { ...row };
  for (const names of GPU_FIELD_NAMES) {
    const queried = names.find((n) => n in row);
    if (queried !== undefined) r[names[0]] = row[queried];
  }
  return r;
}

export function gpuFromRow(row: CsvRow): GpuInfo {
  const r = canonicalGpuRow(row);
  const compute = r['compute_mode'];
  return {
    index: required(num(r, 'index'), 'index'),
    uuid: required(r.uuid, 'uuid'),
    name: required(r.name, 'name'),
    utilization_percent: num(r, 'utilization.gpu'),
    memory_used_mb: num(r, 'memory.used'),
    memory_total_mb: num(r, 'memory.total'),
    memory_free_mb: num(r, 'memory.free'),
    temperature_celsius: num(r, 'temperature.gpu'),
    power_draw_watts: num(r, 'power.draw'),
    power_limit_watts: num(r, 'power.limit'),
    fan_speed_percent: num(r, 'fan.speed'),
    clocks_graphics_mhz: optionalNum(r, 'clocks.current.graphics'),
    clocks_memory_mhz: optionalNum(r, 'clocks.current.memory'),
    clocks_max_graphics_mhz: optionalNum(r, 'clocks.max.graphics'),
    throttle_reasons: throttleReasonWords(r['clocks_event_reasons.active']),
    pcie_generation: optionalNum(r, 'pcie.link.gen.current'),
    pcie_width: optionalNum(r, 'pcie.link.width.current'),
    ecc_errors_uncorrected: optionalNum(r, 'ecc.errors.uncorrected.volatile.total'),
    encoder_percent: optionalNum(r, 'utilization.encoder'),
    decoder_percent: optionalNum(r, 'utilization.decoder'),
    persistence_mode: enabled(r, 'persistence_mode'),
    compute_mode: compute === undefined || compute === null ? null : clip(compute, 40),
    mig_mode: enabled(r, 'mig.mode.current'),
  };
}

/**
 * Parse `--query-gpu` CSV (noheader, nounits) whose columns are `fields`. Fields the result does not use are
 * ignored; index, uuid and name must be present, everything else may be missing (null).
 */
export function parseGpuRows(text: string, fields: readonly string[] = GPU_QUERY_FIELDS): GpuInfo[] {
  return parseNvidiaSmiCsv(text, fields).map(gpuFromRow);
}

/** Parse `--query-compute-apps` CSV (noheader, nounits); gpu_index is looked up by UUID in `gpus`. */
export function parseProcessRows(text: string, gpus: readonly GpuInfo[], fields: readonly string[] = APP_QUERY_FIELDS): GpuProcess[] {
  const joinField = fields.includes('process_name') ? 'process_name' : fields.includes('name') ? 'name' : undefined;
  const byUuid = new Map(gpus.map((g) => [g.uuid, g.index]));
  return parseNvidiaSmiCsv(text, fields, joinField).map((row) => {
    const r = {
      ...row,
      ...pick(row, 'process_name', 'name'),
      ...pick(row, 'used_memory', 'used_gpu_memory'),
    };
    const uuid = required(r.gpu_uuid ?? null, 'gpu_uuid');
    return {
      gpu_index: byUuid.get(uuid) ?? null,
      gpu_uuid: uuid,
      pid: num(r, 'pid'),
      process_name: r.process_name ?? null,
      used_memory_mb: num(r, 'used_memory'),
    };
  });
}

const VERSION_RE = /^\d+(\.\d+)+$/;
const CUDA_RE = /^\d+\.\d+$/;

/**
 * Driver and CUDA versions from `nvidia-smi --version`. 610 turned `DRIVER version` and `CUDA version` into
 * prose ("Deprecated, see ...") and added `KMD version` / `CUDA UMD version`; values are validated so the
 * prose never becomes a version.
 */
export function parseVersionOutput(text: string): { driver_version: string | null; cuda_version: string | null } {
  const keys = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    // `key : value` split at the first colon: as one regex with lazy groups this was quadratic in a line
    // of spaces, and the line comes from the host.
    const colon = line.indexOf(':');
    const key = line.slice(0, Math.max(colon, 0)).trim();
    if (colon >= 0 && /^[A-Za-z][A-Za-z -]*$/.test(key)) keys.set(key.toLowerCase(), line.slice(colon + 1).trim());
  }
  const first = (re: RegExp, ...names: string[]) => {
    for (const n of names) {
      const v = keys.get(n);
      if (v !== undefined && re.test(v)) return v;
    }
    return null;
  };
  return {
    driver_version: first(VERSION_RE, 'kmd version', 'driver version'),
    cuda_version: first(CUDA_RE, 'cuda umd version', 'cuda version'),
  };
}
