/**
 * nvidia-smi: the one remote command behind `gpu_status`, and the pure parser for its output.
 *
 * Why one command with sections: a status answer needs the per-GPU query, the per-process query and the
 * driver/CUDA versions. Running them as one script costs one SSH round trip instead of three.
 * Each section is framed by marker lines on stdout AND stderr, and ends with its exit code, so the parser
 * knows which part failed and whose words to quote.
 *
 * Fields per driver: one field a driver does not know makes nvidia-smi refuse the whole query
 * (`Field "fan.speed" is not a valid field to query.`), and field names changed over the years
 * (`clocks_throttle_reasons.*` became `clocks_event_reasons.*` around 530; 610 added `kmd_version`). So each
 * reported value lists the names that answer it, newest first; the service learns per host which of them
 * the driver takes (its `--help-query-gpu`, then any refusal) and queries only those; a value none of whose
 * names the driver knows is null. Checked against the `--help-query-*` captures of drivers 590, 591, 595
 * and 610 and the 2016 gpustat and 440.64 CSVs:
 * - `driver_version` is marked "Deprecated; use kmd_version" in the 595 and 610 help but still answered,
 *   and its column is what tells a driver change; the 610 `--version` prints `KMD version`, which the
 *   parser prefers when present.
 * - `used_memory` (not `used_gpu_memory`): both are listed as aliases by 590-610, and `used_memory` is the
 *   name the 2016 gpustat query used against the drivers of that time.
 * - The CUDA version is not a query field (`Field "cuda_version" is not a valid field to query.`); it comes
 *   from `nvidia-smi --version` (`CUDA Version`, or `CUDA UMD version` from 610). Older drivers have no
 *   `--version`: then cuda_version is null rather than an error.
 */
import { AppError } from '../../common/errors.js';
import type { GpuInfo, GpuProcess } from './dto/gpu.dto.js';
import { clip, escapeRegExp } from '../../common/text.js';

/**
 * The `--query-gpu` values gpu_status reports, each with the names a driver may know it by (preferred
 * first). The first name is the value's key in parsed rows, whichever name was queried.
 */
export const GPU_FIELD_NAMES: readonly (readonly string[])[] = [
  ['index'],
  ['name', 'gpu_name'],
  ['uuid', 'gpu_uuid'],
  ['driver_version'],
  ['memory.total'],
  ['memory.used'],
  ['memory.free'],
  ['utilization.gpu'],
  ['temperature.gpu'],
  ['power.draw'],
  ['power.limit'],
  ['fan.speed'],
  ['clocks.current.graphics', 'clocks.gr'],
  ['clocks.current.memory', 'clocks.mem'],
  ['clocks.max.graphics', 'clocks.max.gr'],
  ['clocks_event_reasons.active', 'clocks_throttle_reasons.active'],
  ['pcie.link.gen.current'],
  ['pcie.link.width.current'],
  ['ecc.errors.uncorrected.volatile.total'],
  ['utilization.encoder'],
  ['utilization.decoder'],
  ['persistence_mode'],
  ['compute_mode'],
  ['mig.mode.current'],
];

/** Without these a row cannot be told from another: a driver refusing them cannot be served. */
const REQUIRED_GPU_FIELDS = new Set(['index', 'name', 'uuid']);

/** The query for a driver that knows every preferred name. */
export const GPU_QUERY_FIELDS: readonly string[] = GPU_FIELD_NAMES.map((names) => names[0]);

/** `--query-compute-apps` fields. process_name goes before the last column so surplus commas can be rejoined into it. */
export const APP_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export const CSV_FORMAT = 'csv,noheader,nounits';

// The parsed shapes are the response DTO's own classes (one definition of the field names).
export type { GpuInfo, GpuProcess };

export interface GpuStatus {
  driver_version: string | null;
  cuda_version: string | null;
  /** The GPU query's own driver_version column (--version may spell the driver differently, e.g. "KMD version"). */
  query_driver_version: string | null;
  gpus: GpuInfo[];
  processes: GpuProcess[];
}

// ---------------------------------------------------------------------------------------------------------
// The command

export type GpuStatusSection = 'gpu' | 'apps' | 'version';

const MARK = '@@gpu-host-tools';
/** Line that opens a section (printed on stdout and on stderr). */
export const sectionBeginMarker = (section: GpuStatusSection | string) => `${MARK}:begin:${section}@@`;
/** Line that closes a section on stdout; carries the section's exit status. */
export const sectionEndMarker = (section: GpuStatusSection | string, exitCode: number | string) => `${MARK}:end:${section}:${exitCode}@@`;

/** Quote one word for a POSIX shell: single quotes, with embedded ones as '\''. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Quote one word with double quotes, escaping the four characters that stay special inside them. Used inside
 * the script so the script itself holds no single quotes and the outer `sh -c '...'` stays readable.
 */
export function shellDoubleQuote(word: string): string {
  return `"${word.replace(/[$`"\\]/g, '\\$&')}"`;
}

function sectionScript(section: GpuStatusSection, invocation: string): string {
  const begin = `"${sectionBeginMarker(section)}"`;
  // The leading \n in the end marker closes a last line that lacks its newline; the parser removes it again.
  const end = `"\\n${sectionEndMarker(section, '%s')}\\n"`;
  return `echo ${begin}; echo ${begin} >&2; ${invocation}; r=$?; printf ${end} "$r"`;
}

/**
 * The POSIX sh script (without the `sh -c` wrapper). The process and version queries only run when the
 * GPU query worked: when nvidia-smi is missing or the driver is broken they would only repeat the failure,
 * and a broken driver can make each call slow.
 */
export function buildGpuStatusScript(nvidiaSmiPath = 'nvidia-smi', options: GpuStatusCommandOptions = {}): string {
  return `LC_ALL=C; export LC_ALL; ${readingScript(nvidiaSmiPath, options)}`;
}

function readingScript(nvidiaSmiPath: string, options: GpuStatusCommandOptions): string {
  const smi = shellDoubleQuote(nvidiaSmiPath);
  const fields = options.gpuFields ?? GPU_QUERY_FIELDS;
  const gpu = sectionScript('gpu', `${smi} --query-gpu=${fields.join(',')} --format=${CSV_FORMAT}`);
  const apps = sectionScript('apps', `${smi} --query-compute-apps=${APP_QUERY_FIELDS.join(',')} --format=${CSV_FORMAT}`);
  const version = options.version === false ? '' : `; ${sectionScript('version', `${smi} --version`)}`;
  return `${gpu}; if [ "$r" -eq 0 ]; then ${apps}${version}; fi`;
}

export interface GpuStatusCommandOptions {
  /**
   * Run `nvidia-smi --version` for the CUDA version (default true). It is a third nvidia-smi run on
   * every call, and the CUDA version only changes with the driver, so callers may cache it.
   */
  version?: boolean;
  /** The `--query-gpu` names this host's driver takes (see chooseGpuFields); default GPU_QUERY_FIELDS. */
  gpuFields?: readonly string[];
}

/** Line that ends one reading of the sampler's loop. */
export const SAMPLE_END_MARKER = `${MARK}:sample@@`;

/**
 * The sampler: one long-lived command that prints a reading (the GPU and process sections, framed as in
 * buildGpuStatusScript) followed by SAMPLE_END_MARKER every `intervalMs`, until it is killed.
 *
 * Why a shell loop of one-shot queries rather than `nvidia-smi -lms`: in loop mode with noheader an empty
 * process list prints nothing at all (and the header, without noheader, comes only once), so a reading
 * could not tell "no processes" from "not printed yet", and two loops on one channel interleave their
 * lines. The loop keeps both queries of one reading together, on one channel.
 */
export function buildGpuSamplerCommand(nvidiaSmiPath: string, gpuFields: readonly string[], intervalMs: number): string {
  const seconds = (Math.max(100, intervalMs) / 1000).toFixed(3);
  const reading = readingScript(nvidiaSmiPath, { version: false, gpuFields });
  return `sh -c ${shellQuote(`LC_ALL=C; export LC_ALL; while :; do ${reading}; echo "${SAMPLE_END_MARKER}"; sleep ${seconds} || exit; done`)}`;
}

/** `nvidia-smi --help-query-gpu`: the field list this driver accepts. */
export function buildHelpQueryGpuCommand(nvidiaSmiPath = 'nvidia-smi'): string {
  return `sh -c ${shellQuote(`LC_ALL=C; export LC_ALL; ${shellDoubleQuote(nvidiaSmiPath)} --help-query-gpu`)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Which fields a driver takes

/**
 * Field names listed by `--help-query-gpu` (entries are lines like `"uuid" or "gpu_uuid"`, each followed by
 * its description); null when the text lists none (not a field list: an error, or a driver without it).
 */
export function parseHelpQueryFields(text: string): Set<string> | null {
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('"')) continue;
    for (const m of line.matchAll(/"([A-Za-z0-9_.]+)"/g)) names.add(m[1]);
  }
  return names.size > 0 ? names : null;
}

/**
 * The `--query-gpu` list for a driver: per value its first name the driver accepts and has not refused.
 * `accepted` null (nothing learned) tries every name not yet refused. Values with no usable name are left
 * out (reported as null); index, name and uuid always stay, so a driver lacking them fails with its words.
 */
export function chooseGpuFields(accepted: ReadonlySet<string> | null, refused: ReadonlySet<string>): string[] {
  const fields: string[] = [];
  for (const names of GPU_FIELD_NAMES) {
    const usable = names.find((n) => !refused.has(n) && (accepted === null || accepted.has(n)));
    if (usable !== undefined) fields.push(usable);
    else if (REQUIRED_GPU_FIELDS.has(names[0])) fields.push(names[0]);
  }
  return fields;
}

/** The field named in nvidia-smi's `Field "x" is not a valid field to query.`, or null. */
export function refusedQueryField(text: string): string | null {
  return /Field "([^"\n]{1,100})" is not a valid field to query/.exec(text)?.[1] ?? null;
}

/**
 * One command string for one SSH exec. It is wrapped in an explicit `sh -c` because the exec runs through
 * the account's login shell, which may be fish or tcsh, where `$?` and `if ...; then` mean something else.
 */
export function buildGpuStatusCommand(nvidiaSmiPath = 'nvidia-smi', options: GpuStatusCommandOptions = {}): string {
  return `sh -c ${shellQuote(buildGpuStatusScript(nvidiaSmiPath, options))}`;
}

// ---------------------------------------------------------------------------------------------------------
// Values and CSV

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

class CsvShapeError extends Error {}

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

function gpuFromRow(row: CsvRow): GpuInfo {
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

// ---------------------------------------------------------------------------------------------------------
// Sections and failures

interface Section {
  stdout: string;
  stderr: string;
  /** null when the end marker is missing (the script was cut off). */
  exitCode: number | null;
}

/** The output between a section's begin marker and its end marker (or the next begin marker / the end). */
function extractSection(stdout: string, stderr: string, name: GpuStatusSection): Section | null {
  const begin = sectionBeginMarker(name) + '\n';
  const start = stdout.indexOf(begin);
  if (start < 0) return null;
  const rest = stdout.slice(start + begin.length);
  const end = new RegExp(`\\n${escapeRegExp(`${MARK}:end:${name}:`)}(\\d+)@@`).exec(rest);
  const out = end ? rest.slice(0, end.index) : rest.split(`${MARK}:begin:`)[0];
  return { stdout: out, stderr: stderrSection(stderr, name), exitCode: end ? Number(end[1]) : null };
}

function stderrSection(stderr: string, name: string): string {
  const begin = sectionBeginMarker(name);
  const start = stderr.indexOf(begin);
  if (start < 0) return '';
  return stderr.slice(start + begin.length).split(`${MARK}:begin:`)[0];
}

function withoutMarkers(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((l) => !l.startsWith(MARK))
    .join('\n');
}

/** First line worth quoting: stderr first (where shells and most tools complain), then stdout. */
function firstMeaningfulLine(...texts: string[]): string | null {
  for (const t of texts) {
    const line = withoutMarkers(t)
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '');
    if (line) return clip(line, 300);
  }
  return null;
}

/** The driver refused one `--query-gpu` field: the service drops it and asks again. */
export class QueryFieldRefused extends AppError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(503, 'GPU_UNAVAILABLE', message);
  }
}

function gpuUnavailable(host: string, quote: string | null, advice: string, exitCode: number | null): AppError {
  const said = quote === null ? 'failed without printing anything' : `failed: "${quote}"`;
  const code = exitCode === null ? '' : ` (exit code ${exitCode})`;
  return new AppError(503, 'GPU_UNAVAILABLE', `nvidia-smi on host '${host}' ${said}; ${advice}${code}.`);
}

/** Turn a failed nvidia-smi invocation into an AppError that quotes the host and says what to do. */
export function classifyNvidiaSmiFailure(
  host: string,
  stdout: string,
  stderr: string,
  exitCode: number | null,
  query: 'gpu' | 'apps' = 'gpu',
  gpuFields: readonly string[] = GPU_QUERY_FIELDS,
  transport: 'ssh' | 'local' = 'ssh',
): AppError {
  const account = transport === 'ssh' ? 'the SSH account' : 'the account gpu-host-tools runs as';
  const what = query === 'gpu' ? 'the GPU query' : 'the process query';
  const fields = query === 'gpu' ? gpuFields : APP_QUERY_FIELDS;
  const text = `${stdout}\n${stderr}`;
  const quote = firstMeaningfulLine(stderr, stdout);
  if (exitCode === 127 || /command not found|: not found$/im.test(text)) {
    return gpuUnavailable(
      host,
      quote,
      `nvidia-smi is not installed there or not on the PATH of ${account}: install the NVIDIA driver (it ships nvidia-smi) or set its full path in NVIDIA_SMI_PATH (YAML: the host's nvidia_smi_path)`,
      exitCode,
    );
  }
  if (exitCode === 126) {
    return gpuUnavailable(
      host,
      quote,
      `the configured nvidia-smi path (NVIDIA_SMI_PATH / nvidia_smi_path) cannot be executed by ${account}: check the path and its permissions`,
      exitCode,
    );
  }
  if (/couldn't communicate with the NVIDIA driver/i.test(text) || exitCode === 9) {
    return gpuUnavailable(
      host,
      quote,
      'make sure the NVIDIA driver is installed and loaded (`lsmod | grep nvidia`; after installing or upgrading it, reboot or load the module with `modprobe nvidia`)',
      exitCode,
    );
  }
  if (/Driver\/library version mismatch/i.test(text)) {
    return gpuUnavailable(
      host,
      quote,
      'the loaded kernel module is older than the installed driver libraries, usually after a driver upgrade without a reboot: reboot the host (or unload and reload the nvidia kernel modules)',
      exitCode,
    );
  }
  if (/Failed to initialize NVML/i.test(text) || exitCode === 12) {
    return gpuUnavailable(
      host,
      quote,
      'NVML could not start: check that the driver is loaded and its libraries match (`dmesg | grep -i nvrm`); inside a container, make sure the GPU devices and driver libraries are passed in (NVIDIA Container Toolkit)',
      exitCode,
    );
  }
  if (/No devices were found/i.test(text) || exitCode === 6) {
    return gpuUnavailable(
      host,
      quote,
      'the driver sees no NVIDIA GPU: check that the card is present (`lspci | grep -i nvidia`), for a VM that it is passed through, and that it has not fallen off the bus (`dmesg`)',
      exitCode,
    );
  }
  if (/is not a valid field to query/i.test(text)) {
    const refused = gpuUnavailable(
      host,
      quote,
      `this driver does not know a field that ${what} asks for (${fields.join(',')}): update the NVIDIA driver, or report the driver version so the query can be adapted`,
      exitCode,
    );
    const field = refusedQueryField(text);
    return query === 'gpu' && field !== null ? new QueryFieldRefused(refused.message, field) : refused;
  }
  return gpuUnavailable(host, quote, `${what} did not succeed: run \`nvidia-smi\` on the host to see what is wrong`, exitCode);
}

/**
 * Parse the output of `buildGpuStatusCommand()`. `exitCode` is the exit status of the whole command (null
 * when it was killed). Throws AppError(503, 'GPU_UNAVAILABLE') naming the host, quoting the remote's words
 * and saying what to do.
 */
export function parseGpuStatus(
  host: string,
  stdout: string,
  stderr: string,
  exitCode: number | null,
  gpuFields: readonly string[] = GPU_QUERY_FIELDS,
  transport: 'ssh' | 'local' = 'ssh',
): GpuStatus {
  const gpuSection = extractSection(stdout, stderr, 'gpu');
  if (gpuSection === null || gpuSection.exitCode === null) {
    // The script never reached or never finished the query: sh itself failed, or the command was killed.
    const quote = firstMeaningfulLine(stderr, stdout);
    if (exitCode !== 0 && quote !== null) throw classifyNvidiaSmiFailure(host, stdout, stderr, exitCode, 'gpu', gpuFields, transport);
    throw gpuUnavailable(
      host,
      quote,
      exitCode === null
        ? 'the command was interrupted before it finished: try again, and check that the host is not overloaded'
        : 'its output was cut off or not in the expected form: run `nvidia-smi` on the host to check it',
      exitCode,
    );
  }
  if (gpuSection.exitCode !== 0) {
    throw classifyNvidiaSmiFailure(host, gpuSection.stdout, gpuSection.stderr, gpuSection.exitCode, 'gpu', gpuFields, transport);
  }

  let gpuRows: CsvRow[];
  let gpus: GpuInfo[];
  try {
    gpuRows = parseNvidiaSmiCsv(gpuSection.stdout, gpuFields);
    gpus = gpuRows.map(gpuFromRow);
  } catch (err) {
    throw shapeError(host, 'the GPU query', err);
  }

  const appsSection = extractSection(stdout, stderr, 'apps');
  if (appsSection === null || appsSection.exitCode === null) {
    throw gpuUnavailable(
      host,
      firstMeaningfulLine(stderr),
      'the process query did not finish: try again, and run `nvidia-smi --query-compute-apps=pid --format=csv` on the host if it keeps failing',
      exitCode,
    );
  }
  if (appsSection.exitCode !== 0) {
    throw classifyNvidiaSmiFailure(host, appsSection.stdout, appsSection.stderr, appsSection.exitCode, 'apps', gpuFields, transport);
  }
  let processes: GpuProcess[];
  try {
    processes = parseProcessRows(appsSection.stdout, gpus);
  } catch (err) {
    throw shapeError(host, 'the process query', err);
  }

  // Drivers without `--version` fail this section; the versions then come from the GPU rows alone.
  const versionSection = extractSection(stdout, stderr, 'version');
  const versions =
    versionSection !== null && versionSection.exitCode === 0
      ? parseVersionOutput(versionSection.stdout)
      : { driver_version: null, cuda_version: null };

  return {
    // 595+ mark driver_version deprecated and 610 prints "KMD version"; drivers without --version only have the CSV column.
    driver_version: versions.driver_version ?? gpuRows[0]?.driver_version ?? null,
    cuda_version: versions.cuda_version,
    query_driver_version: gpuRows[0]?.driver_version ?? null,
    gpus,
    processes,
  };
}

function shapeError(host: string, what: string, err: unknown): AppError {
  if (!(err instanceof CsvShapeError)) throw err;
  return new AppError(
    503,
    'GPU_UNAVAILABLE',
    `nvidia-smi on host '${host}' answered ${what} in an unexpected form: ${err.message}; run \`nvidia-smi\` on the host and report its driver version.`,
  );
}
