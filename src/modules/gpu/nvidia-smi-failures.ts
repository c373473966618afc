/**
 * What a failed nvidia-smi run means, from its words and exit code (the captures in the fixtures: driver
 * not loaded, NVML mismatch, no devices, not on the PATH, a refused field), turned into a 503 that names
 * the host, quotes the remote's first meaningful line and says what to do there.
 */
import { AppError } from '../../common/errors.js';
import { clip } from '../../common/text.js';
import { withoutFrameLines } from '../../infra/framed-sections.js';
import { APP_QUERY_FIELDS, GPU_QUERY_FIELDS, refusedQueryField } from './gpu-fields.js';
import { CsvShapeError } from './nvidia-smi-csv.js';

/** The driver refused one `--query-gpu` field: the service drops it and asks again. */
export class QueryFieldRefused extends AppError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(503, 'GPU_UNAVAILABLE', message);
  }
}

/** First line worth quoting: stderr first (where shells and most tools complain), then stdout. */
export function firstMeaningfulLine(...texts: string[]): string | null {
  for (const t of texts) {
    const line = withoutFrameLines(t)
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '');
    if (line) return clip(line, 300);
  }
  return null;
}

export function gpuUnavailable(host: string, quote: string | null, advice: string, exitCode: number | null): AppError {
  const said = quote === null ? 'failed without printing anything' : `failed: "${quote}"`;
  const code = exitCode === null ? '' : ` (exit code ${exitCode})`;
  return new AppError(503, 'GPU_UNAVAILABLE', `nvidia-smi on host '${host}' ${said}; ${advice}${code}.`);
}

/** A query answered in a form the parser does not take (a CsvShapeError); anything else is rethrown. */
export function shapeError(host: string, what: string, err: unknown): AppError {
  if (!(err instanceof CsvShapeError)) throw err;
  return new AppError(
    503,
    'GPU_UNAVAILABLE',
    `nvidia-smi on host '${host}' answered ${what} in an unexpected form: ${err.message}; run \`nvidia-smi\` on the host and report its driver version.`,
  );
}

/** A known failure: how to tell it (from the output and exit code) and what to tell the user, for `account`. */
interface KnownFailure {
  matches: (text: string, exitCode: number | null) => boolean;
  advice: (account: string) => string;
}

/** In order: the first that matches decides. */
const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    matches: (text, exitCode) => exitCode === 127 || /command not found|: not found$/im.test(text),
    advice: (account) =>
      `nvidia-smi is not installed there or not on the PATH of ${account}: install the NVIDIA driver (it ships nvidia-smi) or set its full path in NVIDIA_SMI_PATH (YAML: the host's nvidia_smi_path)`,
  },
  {
    matches: (_text, exitCode) => exitCode === 126,
    advice: (account) =>
      `the configured nvidia-smi path (NVIDIA_SMI_PATH / nvidia_smi_path) cannot be executed by ${account}: check the path and its permissions`,
  },
  {
    matches: (text, exitCode) => /couldn't communicate with the NVIDIA driver/i.test(text) || exitCode === 9,
    advice: () =>
      'make sure the NVIDIA driver is installed and loaded (`lsmod | grep nvidia`; after installing or upgrading it, reboot or load the module with `modprobe nvidia`)',
  },
  {
    matches: (text) => /Driver\/library version mismatch/i.test(text),
    advice: () =>
      'the loaded kernel module is older than the installed driver libraries, usually after a driver upgrade without a reboot: reboot the host (or unload and reload the nvidia kernel modules)',
  },
  {
    matches: (text, exitCode) => /Failed to initialize NVML/i.test(text) || exitCode === 12,
    advice: () =>
      'NVML could not start: check that the driver is loaded and its libraries match (`dmesg | grep -i nvrm`); inside a container, make sure the GPU devices and driver libraries are passed in (NVIDIA Container Toolkit)',
  },
  {
    matches: (text, exitCode) => /No devices were found/i.test(text) || exitCode === 6,
    advice: () =>
      'the driver sees no NVIDIA GPU: check that the card is present (`lspci | grep -i nvidia`), for a VM that it is passed through, and that it has not fallen off the bus (`dmesg`)',
  },
];

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
  const known = KNOWN_FAILURES.find((f) => f.matches(text, exitCode));
  if (known !== undefined) return gpuUnavailable(host, quote, known.advice(account), exitCode);
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
