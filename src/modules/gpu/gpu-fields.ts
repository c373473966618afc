/**
 * The fields gpu_status asks nvidia-smi for, and which of them a host's driver takes.
 *
 * One field a driver does not know makes nvidia-smi refuse the whole query (`Field "fan.speed" is not a
 * valid field to query.`), and field names changed over the years (`clocks_throttle_reasons.*` became
 * `clocks_event_reasons.*` around 530; 610 added `kmd_version`). So each reported value lists the names
 * that answer it, newest first; the service learns per host which of them the driver takes (its
 * `--help-query-gpu`, then any refusal) and queries only those; a value none of whose names the driver
 * knows is null. Checked against the `--help-query-*` captures of drivers 590, 591, 595 and 610 and the
 * 2016 gpustat and 440.64 CSVs:
 * - `driver_version` is marked "Deprecated; use kmd_version" in the 595 and 610 help but still answered,
 *   and its column is what tells a driver change; the 610 `--version` prints `KMD version`, which the
 *   parser prefers when present.
 * - `used_memory` (not `used_gpu_memory`): both are listed as aliases by 590-610, and `used_memory` is the
 *   name the 2016 gpustat query used against the drivers of that time.
 * - The CUDA version is not a query field (`Field "cuda_version" is not a valid field to query.`); it comes
 *   from `nvidia-smi --version` (`CUDA Version`, or `CUDA UMD version` from 610). Older drivers have no
 *   `--version`: then cuda_version is null rather than an error.
 */

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
