/**
 * Opening channels on a live connection: exec sessions (refused opens retried, an open lost with the
 * connection told apart from one whose command may have run), the SFTP session and direct-tcpip
 * forwarded connections. Each open waits for an answer, so a silent connection is probed (SshConnection).
 * How many exec channels are open at once is the ChannelLimiter's business (channel-limiter.ts).
 */
import type { Duplex } from 'node:stream';
import type { AppError } from '../../common/errors.js';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { formatSeconds } from '../../common/text.js';
import type { SshConnection } from './ssh-connection.js';
import { channelOpenError, droppedBeforeStart, droppedDuringExec, forwardOpenError, ForwardError, type SshTarget } from './ssh-errors.js';
import { TunnelSocket } from './tunnel-socket.js';
import { bracketIpv6 } from '../../config/host-names.js';

/**
 * Retries of a refused channel open while none of our exec channels is open on the connection (so no
 * close is coming to wait for): the first ones at once (a session sshd had not yet freed is free one
 * round trip later), then 20, 40, 80, 160, 320 ms apart (about 0.6 s) before the refusal counts.
 */
const OPEN_RETRIES_AT_ONCE = 10;
const OPEN_RETRIES = OPEN_RETRIES_AT_ONCE + 5;
const retryableOpenFailures = new WeakSet<object>();

/** The open of an exec channel was never confirmed when the connection went away: the command did not run. */
const notStartedDrops = new WeakSet<object>();

/** The connection dropped before the command was sent: an error the transport may answer by running it again. */
export function notStartedDrop(target: SshTarget): AppError {
  const err = droppedBeforeStart(target);
  notStartedDrops.add(err);
  return err;
}

/** True for an error of openExec meaning the command never reached the host (safe to run again). */
export function isNotStartedDrop(err: unknown): boolean {
  return typeof err === 'object' && err !== null && notStartedDrops.has(err);
}

/**
 * Open an exec channel, waiting out sshd's MaxSessions. A refusal lowers the connection's exec limit to
 * what sshd took (SshConnection.execLimit; the transport then queues further calls instead of sending
 * opens that would be refused too). While another exec channel of ours is open or opening there, the
 * refused call waits for one of ours to close, then asks again, and once more at once if that is refused
 * too (sshd frees a closed session only in a later pass of its loop, so an open sent right behind our
 * close can find it still taken); it gives up at its own deadline (`signal`). With none of ours open or
 * opening, no close is coming: the refusal is retried at once and then with a short backoff before it
 * counts. `onRefused` runs after every refusal.
 */
export async function openExecRetrying(
  conn: SshConnection,
  target: SshTarget,
  command: string,
  signal: AbortSignal,
  onRefused?: () => void,
): Promise<ClientChannel> {
  let retries = 0;
  let justClosed = false;
  for (;;) {
    try {
      return await openExec(conn, target, command);
    } catch (err) {
      if (!retryableOpenFailures.has(err as object) || !conn.alive || signal.aborted || retries >= OPEN_RETRIES) throw err;
      onRefused?.();
      // Right after a close the session may not be freed yet: ask once more at once before waiting again.
      if (conn.execBusy && !justClosed && (await conn.nextExecClose(signal))) {
        // A session of ours was given back: progress, so the count of fruitless retries starts again.
        retries = 0;
        justClosed = true;
        continue;
      }
      justClosed = false;
      if (retries >= OPEN_RETRIES_AT_ONCE) await new Promise((r) => setTimeout(r, 20 * 2 ** (retries - OPEN_RETRIES_AT_ONCE)));
      retries++;
    }
  }
}

/**
 * Opens an exec channel, counted on the connection until it closes (ssh2 closes every channel when the
 * connection goes), whoever holds it: a call, the reaper, or nobody when it opened after its call gave up.
 */
function openExec(conn: SshConnection, target: SshTarget, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const answered = conn.awaitReply();
    conn.execOpenSent();
    try {
      conn.client.exec(command, (err, channel) => {
        answered();
        if (err) {
          // Alive: sshd refused the session (see openExecRetrying).
          conn.execOpenFailed(conn.alive);
          if (!conn.alive) {
            // ssh2 answers a channel open still unconfirmed at the drop with this error; once the channel
            // is open, the exec request that follows fails with "Unable to exec" instead, and then the
            // command may have started.
            if (err.message === 'No response from server') {
              return reject(notStartedDrop(target));
            }
            return reject(droppedDuringExec(target));
          }
          const refused = channelOpenError(target, err.message);
          retryableOpenFailures.add(refused);
          return reject(refused);
        }
        conn.execOpened();
        channel.once('close', () => conn.execClosed());
        resolve(channel);
      });
    } catch (err) {
      answered();
      conn.execOpenFailed(false);
      // ssh2 throws "Not connected" synchronously when the socket went away under us: nothing was sent.
      conn.markDead((err as Error).message);
      reject(notStartedDrop(target));
    }
  });
}

/** The connection's SFTP session; opened once and re-opened after a reconnect (a new connection). */
export function openSftp(conn: SshConnection, target: SshTarget, timeoutMs: number): Promise<SFTPWrapper> {
  if (!conn.sftp) {
    const opening = new Promise<SFTPWrapper>((resolve, reject) => {
      const answered = conn.awaitReply();
      let gaveUp = false;
      const timer = setTimeout(() => {
        gaveUp = true;
        answered();
        reject(channelOpenError(target, `no SFTP session within ${timeoutMs} ms`));
      }, timeoutMs);
      try {
        conn.client.sftp((err, sftp) => {
          answered();
          clearTimeout(timer);
          if (err) return reject(channelOpenError(target, `SFTP: ${err.message}`));
          // Opened after we gave up: nobody holds it, and it would keep one of sshd's sessions.
          if (gaveUp) return sftp.end();
          sftp.on('close', () => {
            if (conn.sftp === opening) conn.sftp = undefined;
          });
          resolve(sftp);
        });
      } catch (err) {
        answered();
        clearTimeout(timer);
        reject(channelOpenError(target, (err as Error).message));
      }
    });
    conn.sftp = opening;
    // A failed open must not stay cached: the next caller tries again.
    opening.catch(() => {
      if (conn.sftp === opening) conn.sftp = undefined;
    });
  }
  return conn.sftp;
}

/**
 * A TCP connection from the SSH host to `host:port` (as that host sees them) over a direct-tcpip
 * channel, as a socket for an http.Agent. Rejects with a ForwardError when the channel is refused,
 * silent for timeoutMs or lost with the connection; the socket is destroyed with one if the connection
 * drops later.
 */
export async function openForward(conn: SshConnection, target: SshTarget, host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const dest = `${bracketIpv6(host)}:${port}`;
  const lost = () => new ForwardError('SSH_CONNECTION_DROPPED', `the SSH connection to ${target.address} dropped`, target.address);
  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    let settled = false;
    // The open waits for an answer: a silent connection is probed and dropped like one under an exec.
    const answered = conn.awaitReply();
    const settle = (err: Error | undefined, ch?: ClientChannel) => {
      if (settled) {
        // Opened after we gave up on it: let go of it.
        ch?.close();
        return;
      }
      settled = true;
      answered();
      clearTimeout(timer);
      conn.onDrop.delete(onDrop);
      if (err) reject(err);
      else resolve(ch!);
    };
    // A wedged connection (no RST, no FIN) answers nothing: bound the wait like an exec channel open.
    const timer = setTimeout(
      () =>
        settle(
          new ForwardError(
            'SSH_FORWARD_TIMEOUT',
            `${target.address} did not open a forwarded connection to ${dest} within ${formatSeconds(timeoutMs)}`,
            target.address,
          ),
        ),
      timeoutMs,
    );
    const onDrop = () => settle(lost());
    conn.onDrop.add(onDrop);
    try {
      // The originator address and port are informational (sshd logs them); nothing listens there.
      conn.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
        if (err) {
          const e = err as Error & { reason?: unknown };
          const description = e.message.replace(/^\(SSH\) Channel open failure: /, '');
          return settle(conn.alive ? forwardOpenError(target, dest, e.reason, description) : lost());
        }
        settle(undefined, ch);
      });
    } catch (err) {
      // ssh2 throws "Not connected" synchronously when the socket went away under us.
      conn.markDead((err as Error).message);
      settle(lost());
    }
  });
  const socket = new TunnelSocket(channel, () => (conn.alive ? undefined : lost()));
  const onDrop = () => socket.destroy(lost());
  conn.onDrop.add(onDrop);
  socket.once('close', () => conn.onDrop.delete(onDrop));
  return socket;
}

/** Race `p` against `signal`; `onLate` gets `p` when the signal won, to clean up what it yields later. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal, onLate?: (p: Promise<T>) => void): Promise<T> {
  if (signal.aborted) {
    onLate?.(p);
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      onLate?.(p);
      p.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
