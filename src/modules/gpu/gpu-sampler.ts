/**
 * The GPU sampler of one host: one long-lived command on the host's pooled connection (see
 * buildGpuSamplerCommand) printing a reading every interval; the newest reading answers gpu_status and
 * /metrics without a remote round trip, and every reading feeds the history.
 *
 * Channels: it holds one of the host's exec channels while it runs (sshd counts sessions per
 * connection, and the transport's limiter keeps us under that). So that it never starves shell and file
 * calls, the service stops it as soon as calls queue for a channel and starts it again once none do, and
 * runs none on a host configured with a single channel.
 */
import type { HostTransport } from '../../infra/transport.js';
import { SAMPLE_END_MARKER, buildGpuSamplerCommand, parseGpuStatus, type GpuStatus } from './nvidia-smi.js';

export interface GpuSamplerOptions {
  hostName: string;
  nvidiaSmiPath: string;
  /** The `--query-gpu` fields this host's driver takes. */
  gpuFields: readonly string[];
  intervalMs: number;
  now?: () => number;
  /** Every reading, as it arrives. */
  onReading: (at: number, reading: GpuStatus) => void;
  /**
   * The command ended without stop(): `error` says why (a drop, the shell gone), or is undefined when it
   * reached its time bound (a planned restart).
   */
  onEnd: (error: unknown) => void;
}

/** A reading is not kept for more bytes than this (a host printing without end cannot grow the buffer). */
const MAX_FRAME_CHARS = 1 << 20;
/** The sampler command is restarted after this long, like any command it has a time bound. */
const SAMPLER_RUN_MS = 6 * 3600_000;

export class GpuSampler {
  private readonly abort = new AbortController();
  private buffer = '';
  private stopped = false;
  /** The latest reading, when it parsed, and when it arrived. */
  latest: { at: number; reading: GpuStatus } | undefined;

  constructor(
    private readonly transport: HostTransport,
    private readonly options: GpuSamplerOptions,
  ) {
    const now = options.now ?? Date.now;
    const command = buildGpuSamplerCommand(options.nvidiaSmiPath, options.gpuFields, options.intervalMs);
    transport
      .exec(command, {
        // Bounded like every wait; the service starts a new one when it ends and sampling is still wanted.
        timeoutMs: SAMPLER_RUN_MS,
        maxStdoutBytes: 4096,
        maxStderrBytes: 4096,
        signal: this.abort.signal,
        onStdout: (chunk) => this.feed(chunk.toString('utf8'), now),
      })
      .then(
        (result) =>
          this.ended(
            result.timedOut ? undefined : new Error(`the sampler command ended (exit code ${result.exitCode ?? result.signal ?? 'none'})`),
          ),
        (err: unknown) => this.ended(err),
      );
  }

  get running(): boolean {
    return !this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new Error('sampler stopped'));
  }

  private ended(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onEnd(error);
  }

  private feed(text: string, now: () => number): void {
    if (this.stopped) return;
    this.buffer += text;
    const end = `${SAMPLE_END_MARKER}\n`;
    for (let at = this.buffer.indexOf(end); at >= 0; at = this.buffer.indexOf(end)) {
      const frame = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + end.length);
      try {
        this.latest = { at: now(), reading: parseGpuStatus(this.options.hostName, frame, '', 0, this.options.gpuFields) };
        this.options.onReading(this.latest.at, this.latest.reading);
      } catch {
        // The newest reading is a failure: answer from none (gpu_status then queries and says why).
        this.latest = undefined;
      }
    }
    if (this.buffer.length > MAX_FRAME_CHARS) this.buffer = '';
  }
}
