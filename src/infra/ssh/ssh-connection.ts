/**
 * One live SSH connection: what waits on it (drop callbacks, the SFTP session) and the wedge probe. A
 * wedged connection (the network went silent without closing it) would otherwise be noticed only by
 * ssh2's keepalive, interval × count later; here, while a call waits for an answer and nothing at all has
 * come from the host for a while, the connection is probed with one keepalive request and dropped when
 * that goes unanswered, so everything waiting on it fails at once.
 */
import { performance } from 'node:perf_hooks';
import type { Client, SFTPWrapper } from 'ssh2';
import { formatSeconds } from '../../common/text.js';

/** How often a connection with waiting calls checks how long the host has been silent. */
const WEDGE_CHECK_EVERY_MS = 500;

/** Opens without a refusal after which a lowered exec limit is raised by one again. */
const RAISE_LIMIT_AFTER_OPENS = 32;

export interface WedgeProbe {
  /** Silence from the host, while something waits for an answer, after which the connection is probed. */
  suspectMs: number;
  /** How long the probe may go unanswered before the connection is dropped. */
  probeTimeoutMs: number;
}

export class SshConnection {
  alive = true;
  /** Run when the connection goes away (exec calls in flight fail fast instead of hanging). */
  readonly onDrop = new Set<() => void>();
  sftp?: Promise<SFTPWrapper>;
  /** performance.now() of the last bytes received from the host. */
  private lastHeard = performance.now();
  /** Calls waiting for an answer from the host right now (see awaitReply). */
  private waiting = 0;
  /** Runs while `waiting` > 0: probes the connection when the host has been silent too long. */
  private watchdog?: NodeJS.Timeout;
  private probing = false;
  /** Exec channels of ours open on this connection (whoever opened one reports its close). */
  execOpen = 0;
  /** Exec channel opens of ours sent and not yet answered. */
  private execOpening = 0;
  /**
   * How many exec channels sshd took at once before it refused one: its MaxSessions, or less while it
   * has not yet freed sessions we just closed (it does that in a later pass of its loop, so an open sent
   * right behind a close can find the session still taken). Unknown (Infinity) until the first refusal;
   * raised by one after every RAISE_LIMIT_AFTER_OPENS opens without a refusal, so a passing lag does not
   * cost parallelism for good.
   */
  execLimit = Infinity;
  private opensSinceRefusal = 0;
  /** Calls whose open was refused, each waiting for one of our exec channels here to close (FIFO). */
  private readonly closeWaiters: Array<(closed: boolean) => void> = [];

  /** @param onDead called once when the connection is found dead, before the drop callbacks run. */
  constructor(
    readonly client: Client,
    private readonly wedge: WedgeProbe,
    private readonly onDead: (conn: SshConnection, reason: string) => void,
  ) {}

  /** Bytes arrived from the host. */
  heard(): void {
    this.lastHeard = performance.now();
  }

  /**
   * Say that something is waiting for an answer from the host (a channel open, a running command, an
   * SFTP request, a forwarded-port channel); call the returned function when it has its answer or gave up.
   */
  awaitReply(): () => void {
    if (this.waiting++ === 0) {
      // Silence is counted from when someone started waiting, not from the last traffic of an idle connection.
      this.lastHeard = performance.now();
      this.watchdog = setInterval(() => this.checkWedged(), WEDGE_CHECK_EVERY_MS);
      this.watchdog.unref();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.waiting === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
      }
    };
  }

  /** An exec channel open is on its way: it counts from now, so a refusal sees the opens sent before it. */
  execOpenSent(): void {
    this.execOpening++;
  }

  /** The open went through. */
  execOpened(): void {
    this.execOpening--;
    this.execOpen++;
    if (this.execLimit !== Infinity && ++this.opensSinceRefusal >= RAISE_LIMIT_AFTER_OPENS) {
      this.execLimit++;
      this.opensSinceRefusal = 0;
    }
  }

  /** The open failed; if sshd refused it, it takes no more than the channels of ours open or opening now. */
  execOpenFailed(refused: boolean): void {
    this.execOpening--;
    if (refused) {
      this.execLimit = Math.max(1, this.execOpen + this.execOpening);
      this.opensSinceRefusal = 0;
    }
    this.releaseWaitersIfNothingOpen();
  }

  /** An exec channel that opened here closed: its session is sshd's to give to the longest-waiting refused open. */
  execClosed(): void {
    this.execOpen--;
    this.closeWaiters.shift()?.(true);
    this.releaseWaitersIfNothingOpen();
  }

  /** Whether a refused open here waits for one of our channels to close (see nextExecClose). */
  get closeAwaited(): boolean {
    return this.closeWaiters.length > 0;
  }

  /** Whether a channel of ours here is open or opening, so a close may come. */
  get execBusy(): boolean {
    return this.execOpen + this.execOpening > 0;
  }

  /**
   * Resolves with true when one of our exec channels here closes (one waiter per close, oldest first),
   * with false when no close is coming (none of ours is open or opening any more, or the connection
   * dropped); rejects with `signal.reason` if the caller gives up first.
   */
  nextExecClose(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const done = (closed: boolean) => {
        signal.removeEventListener('abort', onAbort);
        this.onDrop.delete(dropped);
        resolve(closed);
      };
      const dropped = () => done(false);
      const onAbort = () => {
        const i = this.closeWaiters.indexOf(done);
        if (i >= 0) this.closeWaiters.splice(i, 1);
        this.onDrop.delete(dropped);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      if (!this.alive || !this.execBusy) return resolve(false);
      this.closeWaiters.push(done);
      this.onDrop.add(dropped);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaseWaitersIfNothingOpen(): void {
    if (!this.execBusy) for (const wake of this.closeWaiters.splice(0)) wake(false);
  }

  markDead(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.sftp = undefined;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.onDead(this, reason);
    for (const cb of [...this.onDrop]) cb();
    this.onDrop.clear();
    this.client.destroy();
  }

  /** Whether anything came from the host in the last `ms` milliseconds. */
  heardWithin(ms: number): boolean {
    return performance.now() - this.lastHeard < ms;
  }

  /**
   * Resolves with true once the host answers a keepalive request (the path works now), with false when
   * the connection drops first; a silent path is probed and dropped as under any other wait. For a
   * command about to go to a warm shell: on a path that died unnoticed it is then not sent at all, and
   * runs on the next connection, as a command whose channel never opened does.
   */
  hostAnswers(): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.alive) return resolve(false);
      const answered = this.awaitReply();
      const settle = (ok: boolean) => {
        answered();
        this.onDrop.delete(onDrop);
        resolve(ok);
      };
      const onDrop = () => settle(false);
      this.onDrop.add(onDrop);
      // Without ssh2's internals there is no request to send: go on as if answered.
      if (!sendKeepalive(this.client, () => settle(true))) settle(true);
    });
  }

  private checkWedged(): void {
    const { suspectMs, probeTimeoutMs } = this.wedge;
    if (!this.alive || this.probing || performance.now() - this.lastHeard < suspectMs) return;
    const timer = setTimeout(() => {
      this.probing = false;
      this.markDead(`no answer to an SSH keepalive within ${formatSeconds(probeTimeoutMs)} after ${formatSeconds(suspectMs)} of silence`);
    }, probeTimeoutMs);
    const sent = sendKeepalive(this.client, () => {
      clearTimeout(timer);
      this.probing = false;
      // Any reply, even a refusal, proves the path works (the bytes also moved lastHeard).
      this.lastHeard = performance.now();
    });
    if (sent) this.probing = true;
    else clearTimeout(timer);
  }
}

/**
 * Send the keepalive@openssh.com global request (want-reply) that ssh2's own keepalive sends, and call
 * `onReply` when the host answers it (success or failure alike; sshd answers failure). ssh2 has no public
 * call for one request; this does what its keepalive timer does (ssh2 1.17: queue the reply callback,
 * then protocol.ping(); replies come in request order). The wedge tests fail if that internal moves.
 * Returns false when there is no way to send it.
 */
function sendKeepalive(client: Client, onReply: () => void): boolean {
  const c = client as unknown as { _callbacks?: Array<(err?: unknown) => void>; _protocol?: { ping?: () => void } };
  // Without the internals there is no probe, and no probe must never count as no answer.
  if (!Array.isArray(c._callbacks) || typeof c._protocol?.ping !== 'function') return false;
  c._callbacks.push((err?: unknown) => {
    // An Error (not `true` for a refusal) is ssh2 flushing the queue because the socket closed.
    if (!(err instanceof Error)) onReply();
  });
  try {
    c._protocol.ping();
  } catch {
    /* socket gone: the close handler marks the connection dead */
  }
  return true;
}
