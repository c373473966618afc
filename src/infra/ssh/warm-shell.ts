/**
 * A warm shell: one long-lived exec channel whose POSIX sh runs the transport's commands one after the
 * other, each in a session of its own (setsid) through the account's shell, as a channel of its own
 * would. Opening a session is most of what a short command costs sshd (about 4 ms of its CPU and three
 * round trips here, more with PAM); a command in a warm shell costs a fork and an exec or two. Framing:
 * warm-shell-frames.ts.
 *
 * Differences from a channel per command, all on purpose: when processes of a command outlive it (a
 * background job), the call waits for them only while they hold its output, as sshd would, and the
 * shell is then retired, so nothing they write later can mix into another command's output. A status
 * of 128 + N is reported as death by signal N, as the shell itself reports it.
 */
import type { ClientChannel } from 'ssh2';
import type { AppError } from '../../common/errors.js';
import { BoundedOutput, execResult, type KillReason } from '../output-buffer.js';
import type { ExecOptions, ExecResult } from '../transport.js';
import { PidPreamble } from './pid-preamble.js';
import { notStartedDrop, openExecRetrying } from './ssh-channels.js';
import type { SshConnection } from './ssh-connection.js';
import { droppedDuringExec, type SshTarget } from './ssh-errors.js';
import { GIVE_UP_AFTER_MS, REAP_AFTER_MS, sendSignal, type ProcessGroupReaper } from './ssh-exec.js';
import {
  commandLine,
  KILL_SIGNAL,
  MarkerScanner,
  markerSource,
  NO_SETSID_STATUS,
  parseEnd,
  READY_LINE,
  WARM_SHELL_COMMAND,
  WARM_SHELL_INIT,
  type CommandEnd,
} from './warm-shell-frames.js';

/** One command running in the shell. */
interface Running {
  stdout: MarkerScanner;
  stderr: MarkerScanner;
  onStdout: (d: Buffer) => void;
  onStderr: (d: Buffer) => void;
  onClose: () => void;
}

export class WarmShell {
  private running: Running | undefined;
  private gone = false;
  private readonly nextMarker = markerSource();
  /** Called once when the shell can run nothing more (retired, or its channel closed). */
  onGone: (() => void) | undefined;

  private constructor(
    readonly conn: SshConnection,
    private readonly channel: ClientChannel,
  ) {
    channel.on('data', (d: Buffer) => (this.running ? this.running.onStdout(d) : this.retire()));
    channel.stderr.on('data', (d: Buffer) => (this.running ? this.running.onStderr(d) : this.retire()));
    channel.on('error', () => {
      /* surfaced through close / drop */
    });
    channel.on('close', () => {
      this.markGone();
      this.running?.onClose();
    });
  }

  /**
   * Opens a warm shell on `conn`; resolves with undefined when the host cannot run one (no setsid, or a
   * forced command that is not a shell), so its commands take a channel each.
   */
  static async open(conn: SshConnection, target: SshTarget, signal: AbortSignal, onRefused: () => void): Promise<WarmShell | undefined> {
    const channel = await openExecRetrying(conn, target, WARM_SHELL_COMMAND, signal, onRefused);
    // Read by the sh once it runs (a host without setsid exits before reading it).
    channel.write(WARM_SHELL_INIT);
    const ready = await new Promise<boolean>((resolve) => {
      let seen = Buffer.alloc(0);
      const answered = conn.awaitReply();
      const settle = (ok: boolean) => {
        answered();
        channel.removeListener('data', onData);
        channel.removeListener('exit', onExit);
        channel.removeListener('close', onClose);
        signal.removeEventListener('abort', onClose);
        resolve(ok);
      };
      const onData = (d: Buffer) => {
        seen = Buffer.concat([seen, d]);
        if (seen.length >= READY_LINE.length) settle(seen.equals(READY_LINE));
      };
      const onClose = () => settle(false);
      const onExit = (code: number | null) => code === NO_SETSID_STATUS && settle(false);
      channel.on('data', onData);
      channel.once('close', onClose);
      channel.on('exit', onExit);
      channel.stderr.on('data', () => {});
      if (signal.aborted) onClose();
      else signal.addEventListener('abort', onClose, { once: true });
    });
    if (!ready) {
      closeQuietly(channel);
      if (signal.aborted) throw signal.reason;
      // No command was sent yet: after a drop the caller may run it on a new connection.
      if (!conn.alive) throw notStartedDrop(target);
      return undefined;
    }
    return new WarmShell(conn, channel);
  }

  get idle(): boolean {
    return !this.gone && !this.running;
  }

  /** Stop using this shell: its sh exits at EOF, and the channel is closed so nothing it holds can write on. */
  retire(): void {
    if (this.gone) return;
    this.markGone();
    closeQuietly(this.channel);
  }

  /**
   * Runs `command` (its command line began with withPidPreamble) to its end, with the semantics of
   * runOnChannel: bounded output, cut off past maxReadBytes, the timeout and the caller's abort (see
   * WARM_SHELL_INIT for how the command's process group is killed). `started` is the performance.now()
   * of the exec call.
   */
  run(command: string, options: ExecOptions, started: number, target: SshTarget, reaper: ProcessGroupReaper): Promise<ExecResult> {
    const conn = this.conn;
    return new Promise<ExecResult>((resolve, reject) => {
      const marker = Buffer.from(this.nextMarker());
      const stdout = new BoundedOutput(options.maxStdoutBytes);
      const stderr = new BoundedOutput(options.maxStderrBytes);
      const preamble = new PidPreamble();
      let end: CommandEnd | undefined;
      let killedFor: KillReason | undefined;
      let reapWhenPidKnown = false;
      let draining = false;
      let done = false;
      const timers: NodeJS.Timeout[] = [];
      const answered = conn.awaitReply();
      const limit = options.maxReadBytes ?? Infinity;

      const finish = (err?: AppError) => {
        if (done) return;
        done = true;
        this.running = undefined;
        answered();
        for (const t of timers) clearTimeout(t);
        conn.onDrop.delete(onDrop);
        options.signal?.removeEventListener('abort', onAbort);
        // The shell is reused only after a clean end: both markers, nothing after them, nothing left running.
        if (err || !end || end.lingering || killedFor) this.retire();
        if (err) return reject(err);
        if (!draining) take(stdout, Buffer.concat([preamble.flush(), running.stdout.ended ? Buffer.alloc(0) : running.stdout.flush()]));
        resolve(
          execResult(stdout, stderr, {
            exitCode: end && !end.signal ? end.status : null,
            signal: end?.signal ?? null,
            killedFor,
            startedAt: started,
          }),
        );
      };
      // Both markers seen: a clean end finishes now. With processes of the command still running, the
      // shell is given EOF and the call ends when sshd closes the channel: when nothing holds the
      // command's output any more (at once for `nohup x >log &`), or at the timeout, which kills them.
      const maybeFinish = () => {
        if (!end && running.stdout.ended) {
          const parsed = parseEnd(running.stdout.after);
          if (!parsed) return;
          end = parsed.end;
          running.stdout.after = parsed.rest;
        }
        if (!end || !running.stderr.ended) return;
        const laterOut = running.stdout.after;
        const laterErr = running.stderr.after;
        if (!end.lingering && laterOut.length === 0 && laterErr.length === 0) return finish();
        end.lingering = true;
        draining = true;
        take(stdout, laterOut);
        take(stderr, laterErr);
        closeQuietly(this.channel, 'eof');
      };
      const take = (out: BoundedOutput, data: Buffer) => {
        if (killedFor === 'output' || data.length === 0) return;
        out.write(data);
        if (out.bytes > limit) kill('output');
      };

      const reap = () => {
        if (preamble.pid !== undefined) reaper.reap(conn, preamble.pid);
        else reapWhenPidKnown = true;
      };
      // The shell kills the command's group on a signal request; where sshd refuses those (root
      // logins), the group is killed by pid from another channel shortly after. Past GIVE_UP_AFTER_MS
      // the call ends without the markers, and the shell (its state unknown) is retired.
      const kill = (why: KillReason) => {
        if (done || killedFor) return;
        killedFor = why;
        sendSignal(this.channel, KILL_SIGNAL);
        timers.push(
          setTimeout(reap, REAP_AFTER_MS),
          setTimeout(() => finish(), GIVE_UP_AFTER_MS),
        );
      };
      const onDrop = () => finish(end || killedFor ? undefined : droppedDuringExec(target));
      const onAbort = () => kill('abort');

      const running: Running = {
        stdout: new MarkerScanner(marker),
        stderr: new MarkerScanner(marker),
        onStdout: (d) => {
          if (draining) return take(stdout, d);
          take(stdout, preamble.feed(running.stdout.feed(d)));
          if (reapWhenPidKnown && preamble.pid !== undefined) {
            reapWhenPidKnown = false;
            reap();
          }
          maybeFinish();
        },
        onStderr: (d) => {
          if (draining) return take(stderr, d);
          take(stderr, running.stderr.feed(d));
          maybeFinish();
        },
        // The shell went away under the command: a drop, or the command ended its own shell.
        onClose: () => finish(!conn.alive && !end && !killedFor ? droppedDuringExec(target) : undefined),
      };
      this.running = running;
      conn.onDrop.add(onDrop);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      timers.push(setTimeout(() => kill('timeout'), Math.max(0, options.timeoutMs - (performance.now() - started))));
      try {
        this.channel.write(commandLine(command, marker.toString('latin1')));
      } catch {
        finish(conn.alive ? undefined : droppedDuringExec(target));
      }
    });
  }

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone?.();
  }
}

/** 'eof' ends the shell's stdin only (its sh exits); 'close' also closes the channel. */
function closeQuietly(channel: ClientChannel, how: 'eof' | 'close' = 'close'): void {
  try {
    if (!channel.writableEnded) channel.end();
    if (how === 'close') channel.close();
  } catch {
    /* already closed */
  }
}

/** How long a warm shell with nothing to run stays open (a sleeping sh on the host and one of sshd's sessions). */
const IDLE_CLOSE_MS = 60_000;

/** The warm shells of one connection slot that have no command running, newest last. */
export class IdleWarmShells {
  private readonly shells: Array<{ shell: WarmShell; timer: NodeJS.Timeout }> = [];

  get count(): number {
    return this.shells.length;
  }

  /** The most recently used idle shell on `conn` (older connections' shells are retired on the way). */
  take(conn: SshConnection): WarmShell | undefined {
    for (let entry = this.shells.pop(); entry; entry = this.shells.pop()) {
      clearTimeout(entry.timer);
      if (entry.shell.idle && entry.shell.conn === conn && conn.alive) return entry.shell;
      entry.shell.retire();
    }
    return undefined;
  }

  /**
   * Keep a shell whose command ended cleanly for the next command; one that cannot run more is dropped,
   * and so is one whose session a refused open is waiting for (sshd took fewer sessions than we hold).
   */
  put(shell: WarmShell): void {
    if (!shell.idle) return;
    if (shell.conn.closeAwaited) return shell.retire();
    const entry = { shell, timer: setTimeout(() => shell.retire(), IDLE_CLOSE_MS) };
    entry.timer.unref();
    shell.onGone = () => this.remove(entry);
    this.shells.push(entry);
  }

  /** Close the least recently used idle shell, so its session can serve something else; false if none. */
  retireOne(): boolean {
    const entry = this.shells[0];
    entry?.shell.retire();
    return entry !== undefined;
  }

  private remove(entry: { shell: WarmShell; timer: NodeJS.Timeout }): void {
    clearTimeout(entry.timer);
    const i = this.shells.indexOf(entry);
    if (i >= 0) this.shells.splice(i, 1);
  }
}
