/**
 * The disk check of a pull: where the host's Ollama keeps its models, how much room that file system has, and
 * a progress observer that stops a pull whose layers will not fit there as soon as their sizes appear in the
 * stream (Ollama reports each layer's `total` on its first line, the big model layer first).
 */
import { AppError } from '../../common/errors.js';
import type { OllamaProgress } from '../../infra/ollama/ollama-wire-types.js';
import { shellQuote } from '../../infra/shell-quote.js';
import { parseDf } from '../hosts/host-resources.js';

const DIR_MARK = '@@gpu-host-tools:models-dir:';
/** The official Linux install runs Ollama as the `ollama` user with this home. */
export const SERVICE_MODELS_DIR = '/usr/share/ollama/.ollama/models';

/**
 * The models directory: the configured one; else OLLAMA_MODELS of the systemd `ollama` unit (where users move
 * it to a bigger disk); else the service install's directory when it exists; else the account's
 * OLLAMA_MODELS or ~/.ollama/models (an `ollama serve` of the account). df then reads the nearest existing
 * directory on the way up, since Ollama creates the directory on its first pull.
 */
export function buildModelsDirCommand(configured?: string): string {
  const script = [
    `d=${shellQuote(configured ?? '')}`,
    `[ -n "$d" ] || d=$(systemctl show -p Environment ollama 2>/dev/null | tr ' ' '\\n' | sed -n 's/^\\(Environment=\\)\\{0,1\\}OLLAMA_MODELS=//p' | head -n 1)`,
    `[ -n "$d" ] || { [ -d ${SERVICE_MODELS_DIR} ] && d=${SERVICE_MODELS_DIR}; }`,
    '[ -n "$d" ] || d=${OLLAMA_MODELS:-$HOME/.ollama/models}',
    `printf '%s\\n' "${DIR_MARK}$d"`,
    'p=$d',
    'while [ ! -e "$p" ] && [ "$p" != / ] && [ "$p" != . ]; do p=$(dirname -- "$p"); done',
    'LC_ALL=C df -P -k -- "$p" 2>&1',
  ].join('\n');
  // The exec goes through the account's login shell, which may not be a POSIX one.
  return `sh -c ${shellQuote(script)}`;
}

export interface ModelsDirSpace {
  /** The models directory. */
  dir: string;
  /** Mount point of the file system holding it. */
  mount: string;
  available_bytes: number;
}

/** The directory and its file system's free space from the command's output; null when df gave no figure. */
export function parseModelsDirSpace(stdout: string): ModelsDirSpace | null {
  const at = stdout.indexOf(DIR_MARK);
  if (at < 0) return null;
  const lineEnd = stdout.indexOf('\n', at);
  const dir = stdout.slice(at + DIR_MARK.length, lineEnd < 0 ? undefined : lineEnd).trim();
  const disk = parseDf(lineEnd < 0 ? '' : stdout.slice(lineEnd + 1))[0];
  if (!dir || !disk) return null;
  return { dir, mount: disk.mount, available_bytes: Math.round(disk.available_gb * 1024 ** 3) };
}

const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
/** Distinct layers remembered; a stream naming more is not a real pull. */
const MAX_LAYERS = 1024;

/** Sums what each layer still has to download and throws once the sum passes the free space. */
export class PullSpaceCheck {
  private readonly layers = new Set<string>();
  private needed = 0;

  constructor(
    private readonly host: string,
    private readonly model: string,
    private readonly space: ModelsDirSpace,
  ) {}

  /** Call with every progress line; throws AppError(413, 'TOO_LARGE') with the numbers when it cannot fit. */
  observe(p: OllamaProgress): void {
    if (typeof p.digest !== 'string' || typeof p.total !== 'number' || !Number.isFinite(p.total) || p.total < 0) return;
    if (this.layers.has(p.digest) || this.layers.size >= MAX_LAYERS) return;
    this.layers.add(p.digest);
    // A resumed layer's first line says how much is already on disk; a cached one says all of it.
    const done = typeof p.completed === 'number' && Number.isFinite(p.completed) ? Math.max(0, p.completed) : 0;
    this.needed += Math.max(0, p.total - done);
    if (this.needed > this.space.available_bytes) {
      throw new AppError(
        413,
        'TOO_LARGE',
        `Not enough disk space to pull '${this.model}' on host '${this.host}': it needs ${gb(this.needed)} GB more ` +
          `(${this.needed} bytes, layers seen so far) but ${gb(this.space.available_bytes)} GB is free on ${this.space.mount}, ` +
          `the file system of ${this.space.dir}; the pull was stopped before filling the disk. Free space ` +
          "(ollama_delete_model removes unused models) or move Ollama's models directory (OLLAMA_MODELS) to a bigger disk, then pull again.",
      );
    }
  }
}
