/**
 * Running a command on an open exec channel: the pid preamble stripped from stdout, output bounded and
 * cut off past maxReadBytes, the timeout and the caller's abort, and killing the remote process group
 * (a KILL signal request, and a `kill` from another channel where sshd refuses signals).
 */
import { performance } from 'node:perf_hooks';
import type { ClientChannel } from 'ssh2';
import type { AppError } from '../../common/errors.js';
import { BoundedOutput, execResult, type KillReason } from '../output-buffer.js';
import type { ExecOptions, ExecResult } from '../transport.js';
import { PidPreamble } from './pid-preamble.js';
import { openExecRetrying } from './ssh-channels.js';
import type { SshConnection } from './ssh-connection.js';
import { droppedDuringExec, type SshTarget } from './ssh-errors.js';

/**
 * After sending the KILL signal request: if the channel is still open after REAP_AFTER_MS (sshd refused
 * the signal), kill the remote process group from a second channel; close the channel ourselves after
 * CLOSE_AFTER_MS; stop waiting for it at GIVE_UP_AFTER_MS.
 */
export const REAP_AFTER_MS = 250;
const CLOSE_AFTER_MS = 2_000;
export const GIVE_UP_AFTER_MS = 3_500;

/**
 * Runs the command already started on `channel` (its command line began with withPidPreamble) to its end.
 * `started` is the performance.now() of the exec call: the time spent waiting for the channel counts
 * against the timeout.
 */
export function runOnChannel(
  conn: SshConnection,
  channel: ClientChannel,
  options: ExecOptions,
  started: number,
  target: SshTarget,
  reaper: ProcessGroupReaper,
): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const stdout = new BoundedOutput(options.maxStdoutBytes);
    const stderr = new BoundedOutput(options.maxStderrBytes);
    const preamble = new PidPreamble();
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let gotExit = false;
    let killedFor: KillReason | undefined;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    // A command that prints nothing for a while is normal; a connection that answers nothing is not:
    // waiting for the exit lets the watchdog tell the two apart.
    const answered = conn.awaitReply();

    const finish = (err?: AppError) => {
      if (done) return;
      done = true;
      answered();
      for (const t of timers) clearTimeout(t);
      conn.onDrop.delete(onDrop);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) return reject(err);
      const rest = preamble.flush();
      stdout.write(rest);
      if (rest.length > 0) options.onStdout?.(rest);
      resolve(execResult(stdout, stderr, { exitCode, signal: exitSignal, killedFor, startedAt: started }));
    };

    const kill = (why: KillReason) => {
      if (done || killedFor) return;
      killedFor = why;
      // Closing an exec channel without a pty leaves the remote processes running. A KILL
      // signal request makes sshd kill the session's process group, report exit-signal and close the
      // channel. sshd refuses that for root logins, so if the channel is still open shortly after, kill
      // the process group by pid from another channel; close the channel ourselves only after that.
      sendSignal(channel, 'KILL');
      timers.push(
        setTimeout(() => {
          if (preamble.pid !== undefined) reaper.reap(conn, preamble.pid);
        }, REAP_AFTER_MS),
        setTimeout(() => {
          try {
            channel.close();
          } catch {
            /* already closed */
          }
        }, CLOSE_AFTER_MS),
        setTimeout(() => finish(), GIVE_UP_AFTER_MS),
      );
    };

    const onDrop = () => {
      // Data already received is lost to the caller; an honest error beats a result that looks complete.
      if (!gotExit && !killedFor) finish(droppedDuringExec(target));
      else finish();
    };
    const onAbort = () => kill('abort');

    const limit = options.maxReadBytes ?? Infinity;
    // Once ended for its output, whatever still arrives before the kill lands is dropped unread.
    channel.on('data', (d: Buffer) => {
      if (killedFor === 'output') return;
      const data = preamble.feed(d);
      stdout.write(data);
      if (data.length > 0) options.onStdout?.(data);
      if (stdout.bytes > limit) kill('output');
    });
    channel.stderr.on('data', (d: Buffer) => {
      if (killedFor === 'output') return;
      stderr.write(d);
      if (stderr.bytes > limit) kill('output');
    });
    const takeStatus = (code: number | null | undefined, signal: string | undefined) => {
      gotExit = true;
      if (typeof code === 'number') exitCode = code;
      if (signal) exitSignal = signal.replace(/^SIG/, '');
    };
    channel.on('exit', (code: number | null, signal?: string) => takeStatus(code, signal));
    channel.on('error', () => {
      /* surfaced through close / drop */
    });
    channel.on('close', (code?: number | null, signal?: string) => {
      // When a whole exchange arrives in one TCP read, ssh2 emits 'exit' while parsing it, before
      // this listener set exists; it passes the same status to 'close', so take it from there.
      if (!gotExit && (typeof code === 'number' || signal)) takeStatus(code, signal);
      // ssh2 closes every channel when the socket closes; the connection's own close handler ran
      // first and marked it dead, so tell a drop from a normal end here.
      if (!conn.alive && !gotExit && !killedFor) finish(droppedDuringExec(target));
      else finish();
    });
    conn.onDrop.add(onDrop);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => kill('timeout'), Math.max(0, options.timeoutMs - (performance.now() - started))));
    // stdin gets EOF at once: a command that reads it (cat, a confirmation prompt) ends instead of
    // waiting for input that never comes. A trivial command's whole exchange can arrive with the exec
    // reply, and ssh2 has then ended the channel already: end() would only build a discarded Error
    // (stack and all), a measurable part of a burst's CPU.
    if (!channel.writableEnded && !channel.destroyed) channel.end();
  });
}

/**
 * Kills remote process groups by pid, batched into one extra channel at a time (so a burst of timeouts
 * costs one session, not one each: keep maxChannels + SFTP + this one within MaxSessions). Best effort.
 */
export class ProcessGroupReaper {
  private readonly pending = new Set<number>();
  private reaping = false;

  /** `onRefused`: sshd refused the kill's session on `conn` (the transport gives back an idle one). */
  constructor(
    private readonly target: SshTarget,
    private readonly onRefused?: (conn: SshConnection) => void,
  ) {}

  reap(conn: SshConnection, pid: number): void {
    this.pending.add(pid);
    if (this.reaping) return;
    this.reaping = true;
    void (async () => {
      try {
        while (this.pending.size > 0 && conn.alive) {
          const pids = [...this.pending];
          this.pending.clear();
          // A negative pid names a process group; `--` keeps it from being read as a signal option.
          const command = `kill -s KILL -- ${pids.map((p) => `-${p}`).join(' ')} 2>/dev/null; true`;
          try {
            const ch = await openExecRetrying(conn, this.target, command, new AbortController().signal, () => this.onRefused?.(conn));
            await new Promise<void>((resolve) => {
              const t = setTimeout(() => {
                killChannel(ch);
                resolve();
              }, 5_000);
              ch.on('close', () => {
                clearTimeout(t);
                resolve();
              });
              ch.on('data', () => {});
              ch.stderr.on('data', () => {});
              ch.end();
            });
          } catch {
            /* connection gone or session refused: nothing more we can do for these */
          }
        }
      } finally {
        this.pending.clear();
        this.reaping = false;
      }
    })();
  }
}

/** Ask sshd to kill the channel's process group and close the channel. */
export function killChannel(channel: ClientChannel): void {
  sendSignal(channel, 'KILL');
  try {
    channel.close();
  } catch {
    /* already closed */
  }
}

/**
 * Send a signal request on an exec channel. ssh2's channel.signal() silently does nothing once we have
 * sent EOF (it checks `writable`), and exec() sends EOF at once to close the command's stdin; the
 * request is still valid SSH after EOF (EOF only ends our data direction) and sshd honours it. So go to
 * the protocol object directly while the channel is open or half-closed, as channel.signal() itself does
 * (ssh2 1.17; the transport contract tests of timeouts and aborts fail if that internal moves).
 */
export function sendSignal(channel: ClientChannel, name: string): void {
  const ch = channel as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal?: (id: number, sig: string) => void } };
  };
  const protocol = ch._client?._protocol;
  try {
    if (ch.outgoing && (ch.outgoing.state === 'open' || ch.outgoing.state === 'eof') && protocol?.signal) {
      protocol.signal(ch.outgoing.id, name);
    } else {
      channel.signal(name);
    }
  } catch {
    /* channel already gone */
  }
}
