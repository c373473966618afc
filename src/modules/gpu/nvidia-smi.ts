/**
 * nvidia-smi: the one remote command behind `gpu_status` (and the sampler's loop of it), and reading its
 * output back into a GpuStatus.
 *
 * Why one command with sections: a status answer needs the per-GPU query, the per-process query and the
 * driver/CUDA versions. Running them as one script costs one SSH round trip instead of three. Each query
 * is a framed section (infra/framed-sections.ts) on stdout and stderr with its exit code, so the parser
 * knows which part failed and whose words to quote. The fields asked for: gpu-fields.ts; the CSV:
 * nvidia-smi-csv.ts; what a failure means: nvidia-smi-failures.ts.
 */
import type { GpuInfo, GpuProcess } from './dto/gpu.dto.js';
import { framedPart, parseFramedSections, FRAME_MARK } from '../../infra/framed-sections.js';
import { shellDoubleQuote, shellQuote } from '../../infra/shell-quote.js';
import { APP_QUERY_FIELDS, GPU_QUERY_FIELDS } from './gpu-fields.js';
import { parseNvidiaSmiCsv, gpuFromRow, parseProcessRows, parseVersionOutput, type CsvRow } from './nvidia-smi-csv.js';
import { classifyNvidiaSmiFailure, firstMeaningfulLine, gpuUnavailable, shapeError } from './nvidia-smi-failures.js';

export const CSV_FORMAT = 'csv,noheader,nounits';

export interface GpuStatus {
  driver_version: string | null;
  cuda_version: string | null;
  /** The GPU query's own driver_version column (--version may spell the driver differently, e.g. "KMD version"). */
  query_driver_version: string | null;
  gpus: GpuInfo[];
  processes: GpuProcess[];
}

/** The script's sections, in the order it runs them. */
export type GpuStatusSection = 'gpu' | 'apps' | 'version';
const SECTIONS: readonly GpuStatusSection[] = ['gpu', 'apps', 'version'];

export interface GpuStatusCommandOptions {
  /**
   * Run `nvidia-smi --version` for the CUDA version (default true). It is a third nvidia-smi run on
   * every call, and the CUDA version only changes with the driver, so callers may cache it.
   */
  version?: boolean;
  /** The `--query-gpu` names this host's driver takes (see chooseGpuFields); default GPU_QUERY_FIELDS. */
  gpuFields?: readonly string[];
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
  // Double quotes inside: the script holds no single quotes, so the `sh -c '...'` around it stays readable.
  const smi = shellDoubleQuote(nvidiaSmiPath);
  const fields = options.gpuFields ?? GPU_QUERY_FIELDS;
  // stderr framed apart: a failing query is quoted from its own stderr, and `$r` gates the next queries.
  const section = (name: GpuStatusSection, command: string) => framedPart({ name, command, stderr: 'framed' });
  const gpu = section('gpu', `${smi} --query-gpu=${fields.join(',')} --format=${CSV_FORMAT}`);
  const apps = section('apps', `${smi} --query-compute-apps=${APP_QUERY_FIELDS.join(',')} --format=${CSV_FORMAT}`);
  const version = options.version === false ? '' : `; ${section('version', `${smi} --version`)}`;
  return `${gpu}; if [ "$r" -eq 0 ]; then ${apps}${version}; fi`;
}

/**
 * One command string for one SSH exec. It is wrapped in an explicit `sh -c` because the exec runs through
 * the account's login shell, which may be fish or tcsh, where `$?` and `if ...; then` mean something else.
 */
export function buildGpuStatusCommand(nvidiaSmiPath = 'nvidia-smi', options: GpuStatusCommandOptions = {}): string {
  return `sh -c ${shellQuote(buildGpuStatusScript(nvidiaSmiPath, options))}`;
}

/** Line that ends one reading of the sampler's loop. */
export const SAMPLE_END_MARKER = `${FRAME_MARK}:sample@@`;

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
  const sections = parseFramedSections(SECTIONS, stdout, stderr);
  const gpuSection = sections.get('gpu');
  if (gpuSection === undefined || gpuSection.exitCode === null) {
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

  const appsSection = sections.get('apps');
  if (appsSection === undefined || appsSection.exitCode === null) {
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
  const versionSection = sections.get('version');
  const versions =
    versionSection !== undefined && versionSection.exitCode === 0
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
