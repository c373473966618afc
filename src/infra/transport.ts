/**
 * The contract every host transport (ssh, local) fulfils. Services reach a host only through this
 * interface, so they never import ssh2, child_process or fs themselves.
 */

export interface ExecOptions {
  /** Kill the command (and its children) on the host after this long. */
  timeoutMs: number;
  /** Bytes of stdout / stderr kept for the answer (head and tail, see BoundedOutput). */
  maxStdoutBytes: number;
  maxStderrBytes: number;
  /**
   * End the command once either stream has produced this many bytes: past that point the answer
   * (head and tail within the caps) would only be the tail moving on, and reading a gigabyte to show
   * 64 KiB costs seconds. Undefined: read to the end.
   */
  maxReadBytes?: number;
  /** Working directory on the host; undefined means the account's default (home). */
  cwd?: string;
  /** Abort from the caller (client went away). */
  signal?: AbortSignal;
  /**
   * Receives stdout as it arrives (besides the bounded copy in the result), for long-lived commands
   * whose output is consumed while they run (the GPU sampler).
   */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  /** null when the command was killed by a signal or never reported a status. */
  exitCode: number | null;
  /** Signal name without "SIG" (e.g. "KILL") when the command died from one. */
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  /** True when the command was ended because its output passed maxReadBytes. */
  outputLimitReached: boolean;
  durationMs: number;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface TransportStatus {
  state: ConnectionState;
  /** Number of times a dropped connection was re-established. */
  reconnects: number;
  /** Last connection error message (already safe to show), if any. */
  lastError?: string;
  /** Commands queued for a free channel (0 when the transport has no channel limit). */
  channelsWaiting: number;
}

export interface HostTransport {
  readonly kind: 'ssh' | 'local';
  /** Human-readable address, e.g. "ccpm@10.0.1.201:22" or "local". */
  readonly address: string;
  /** Run a command through the account's shell (`sh -c` semantics). Never rejects for a non-zero exit. */
  exec(command: string, options: ExecOptions): Promise<ExecResult>;
  /** Check that the host answers (opens the connection if needed). Rejects with an AppError. */
  probe(): Promise<void>;
  status(): TransportStatus;
  close(): Promise<void>;
}
