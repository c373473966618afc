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
      this.lastHeard = Math.max(this.lastHeard, performance.now());
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
