/**
 * The local transport: the server runs on the GPU host itself, so commands are child processes. It keeps
 * the ssh transport's semantics (sh -c, home as the default directory, stdin closed, bounded output, the
 * whole process tree killed on timeout) so services cannot tell the two apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { AppError } from '../../common/errors.js';
import { BoundedOutput, execResult, type KillReason } from '../output-buffer.js';
import { withCwd } from '../shell-quote.js';
import type { ExecOptions, ExecResult, HostTransport, TransportStatus } from '../transport.js';

export interface LocalTransportOptions {
  /** Default working directory (the account's home, like an ssh session). */
  homeDir?: string;
  /** Shell used for `sh -c`; default /bin/sh. */
  shell?: string;
}

/** After SIGKILL to the group, wait this long for the pipes to close before answering anyway. */
const KILL_GRACE_MS = 2_000;

export class LocalTransport implements HostTransport {
  readonly kind = 'local' as const;
  readonly address = 'local';
  private readonly homeDir: string;
  private readonly shell: string;
  private readonly running = new Set<ChildProcess>();
  private closed = false;

  constructor(options: LocalTransportOptions = {}) {
    this.homeDir = options.homeDir ?? os.homedir();
    this.shell = options.shell ?? '/bin/sh';
  }

  status(): TransportStatus {
    return { state: 'connected', reconnects: 0, channelsWaiting: 0 };
  }

  async probe(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const child of this.running) killGroup(child);
  }

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    if (this.closed) {
      return Promise.reject(
        new AppError(503, 'HOST_UNREACHABLE', 'The local transport is shut down; restart the server to run commands again.'),
      );
    }
    // A rejection, not a throw: callers that hold the promise without awaiting it at once (a race, a
    // Promise.all) must see the abort the way the ssh transport reports it.
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<ExecResult>((resolve, reject) => {
      // A cwd that does not exist is reported like the ssh transport does (the shell's cd error and exit
      // status 1), not as spawn's ENOENT, which would read as if /bin/sh were missing.
      const child = spawn(this.shell, ['-c', withCwd(command, options.cwd)], {
        cwd: this.homeDir,
        // Its own process group, so a timeout can kill the command and everything it started at once.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.running.add(child);
      const stdout = new BoundedOutput(options.maxStdoutBytes);
      const stderr = new BoundedOutput(options.maxStderrBytes);
      let killedFor: KillReason | undefined;
      let done = false;
      const timers: NodeJS.Timeout[] = [];

      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        options.signal?.removeEventListener('abort', onAbort);
        this.running.delete(child);
        // A grandchild that left the group may still hold the pipes; stop reading them.
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(
          execResult(stdout, stderr, { exitCode: code, signal: signal ? signal.replace(/^SIG/, '') : null, killedFor, startedAt: started }),
        );
      };

      const kill = (why: KillReason) => {
        if (done || killedFor) return;
        killedFor = why;
        killGroup(child);
        let exitInfo: [number | null, NodeJS.Signals | null] = [null, 'SIGKILL'];
        child.once('exit', (c, s) => (exitInfo = [c, s]));
        timers.push(setTimeout(() => finish(...exitInfo), KILL_GRACE_MS));
      };
      const onAbort = () => kill('abort');

      const limit = options.maxReadBytes ?? Infinity;
      // Once ended for its output, whatever still arrives before the kill lands is dropped unread.
      child.stdout!.on('data', (d: Buffer) => {
        if (killedFor === 'output') return;
        stdout.write(d);
        options.onStdout?.(d);
        if (stdout.bytes > limit) kill('output');
      });
      child.stderr!.on('data', (d: Buffer) => {
        if (killedFor === 'output') return;
        stderr.write(d);
        if (stderr.bytes > limit) kill('output');
      });
      child.on('error', (err) => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        this.running.delete(child);
        reject(
          new AppError(
            503,
            'HOST_ERROR',
            `Could not start ${this.shell} on the local host (${err.message}); check that the server's account can run it.`,
          ),
        );
      });
      // 'close' (not 'exit'): it waits until the pipes are drained and closed, like an ssh channel that
      // closes only when every process holding the session's output has let go of it.
      child.on('close', (code, signal) => finish(code, signal));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      timers.push(setTimeout(() => kill('timeout'), Math.max(0, options.timeoutMs)));
    });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the whole process group (detached: true made the shell its leader).
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
