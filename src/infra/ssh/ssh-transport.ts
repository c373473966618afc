/**
 * The ssh transport: one long-lived ssh2 connection per host (a handshake per call would cost more than
 * most calls), opened on first use, re-opened lazily after a drop, with a bounded number of channels and
 * verified host keys.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { AppError } from '../../common/errors.js';
import { HOST_KEY_FINGERPRINT_PATTERN, HOST_KEY_FINGERPRINT_RULE } from '../../config/host-names.js';
import { BoundedOutput, execResult, type KillReason } from '../output-buffer.js';
import type { ConnectionState, ExecOptions, ExecResult, HostTransport, TransportStatus } from '../transport.js';
import { ChannelLimiter } from './channel-limiter.js';
import { PidPreamble, withPidPreamble } from './pid-preamble.js';
import { withCwd } from '../shell-quote.js';
import { TunnelSocket } from './tunnel-socket.js';
import {
  checkHostKey,
  fingerprintMatches,
  fingerprintSha256,
  keyTypeOfBlob,
  knownHostsName,
  normaliseFingerprint,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  type KnownHostEntry,
} from './known-hosts.js';
import {
  channelOpenError,
  connectError,
  droppedBeforeStart,
  droppedDuringExec,
  forwardOpenError,
  ForwardError,
  hostKeyError,
  keyParseError,
  keyReadError,
  notStartedInTime,
  transportClosed,
  type HostKeyProblem,
  type SshTarget,
} from './ssh-errors.js';
import { formatSeconds } from '../../common/text.js';

export interface SshTransportOptions {
  /** The host's configured name (for logs; errors name the address). */
  name: string;
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** Private key contents; or give privateKeyPath (read at each connect, so a rotated key is picked up). */
  privateKey?: Buffer | string;
  privateKeyPath?: string;
  passphrase?: string;
  /** known_hosts file to verify the host key against. A missing file counts as empty. */
  knownHostsPath?: string;
  /** Pinned host key fingerprint "SHA256:<base64>". A key is trusted if it matches this or known_hosts. */
  hostKeyFingerprint?: string;
  /** TCP connect + SSH handshake + auth, default 10 000 ms. */
  connectTimeoutMs?: number;
  /** SSH-level keepalive; a dead peer is noticed after interval × keepaliveCountMax. Default 15 000 ms. */
  keepaliveIntervalMs?: number;
  /** Default 3. */
  keepaliveCountMax?: number;
  /**
   * Exec channels open at once on one connection (default 8); more calls queue. The SFTP session, once
   * opened, takes one more channel, and killing timed-out commands can take one more briefly, so keep this
   * at most sshd's MaxSessions (default 10) minus 2.
   */
  maxChannels?: number;
  /**
   * SSH connections to the host at most (default 2). The first is the warm one everything uses; another
   * is dialled only when exec calls have taken every channel of those before it, since sshd serves all
   * channels of one connection from one process and that process then limits the throughput.
   */
  maxConnections?: number;
  /** First fail-fast window after a failed connect (default 500 ms); doubles per failure up to backoffMaxMs. */
  backoffInitialMs?: number;
  /** Default 5 000 ms. */
  backoffMaxMs?: number;
  /**
   * A wedged connection (the network went silent without closing it) would otherwise be noticed only by
   * keepalive, interval × count later. While a call waits for an answer (a channel open, a running
   * command, an SFTP request) and nothing at all has come from the host for this long, the connection is
   * probed. Default 3 000 ms.
   */
  wedgeSuspectMs?: number;
  /** How long the probe (an SSH keepalive request) may go unanswered before the connection is dropped. Default 5 000 ms. */
  wedgeProbeTimeoutMs?: number;
}

/**
 * After sending the KILL signal request: if the channel is still open after REAP_AFTER_MS (sshd refused
 * the signal), kill the remote process group from a second channel; close the channel ourselves after
 * CLOSE_AFTER_MS; stop waiting for it at GIVE_UP_AFTER_MS.
 */
const REAP_AFTER_MS = 250;
const CLOSE_AFTER_MS = 2_000;
const GIVE_UP_AFTER_MS = 3_500;

/** How often a connection with waiting calls checks how long the host has been silent. */
const WEDGE_CHECK_EVERY_MS = 500;

/**
 * Retries of a refused channel open: the first ones at once (sshd has usually freed the session by the
 * time the refusal arrives, one round trip later), then 20, 40, 80, 160, 320 ms apart (about 0.6 s).
 */
const OPEN_RETRIES_AT_ONCE = 10;
const OPEN_RETRIES = OPEN_RETRIES_AT_ONCE + 5;
const retryableOpenFailures = new WeakSet<object>();

const SSH2_HOST_KEY_ALGORITHMS = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
  'ssh-dss',
]);

interface Slot {
  conn?: Connection;
  connecting?: Promise<Connection>;
  everConnected: boolean;
  /** Exec calls holding a channel on this slot's connection (at most channelsPerConnection). */
  active: number;
}

interface Connection {
  client: Client;
  alive: boolean;
  /** Run when the connection goes away (exec calls in flight fail fast instead of hanging). */
  onDrop: Set<() => void>;
  sftp?: Promise<SFTPWrapper>;
  /** performance.now() of the last bytes received from the host. */
  lastHeard: number;
  /** Calls waiting for an answer from the host right now (see awaitReply). */
  waiting: number;
  /** Runs while `waiting` > 0: probes the connection when the host has been silent too long. */
  watchdog?: NodeJS.Timeout;
  probing: boolean;
}

/** The open of an exec channel was never confirmed when the connection went away: the command did not run. */
const notStartedDrops = new WeakSet<object>();

export { shellQuote, withCwd } from '../shell-quote.js';

export class SshTransport implements HostTransport {
  readonly kind = 'ssh' as const;
  readonly address: string;
  readonly name: string;

  private readonly target: SshTarget;
  private readonly connectTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly keepaliveCountMax: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly limiter: ChannelLimiter;
  private readonly wedgeSuspectMs: number;
  private readonly wedgeProbeTimeoutMs: number;

  /** slots[0] is the host's warm connection (SFTP, awaitReply, probe); the others serve exec bursts. */
  private readonly slots: Slot[];
  private readonly channelsPerConnection: number;
  private reconnects = 0;
  private failures = 0;
  private retryAt = 0;
  private lastFailure: AppError | undefined;
  private lastError: string | undefined;
  private closed = false;
  private readonly pendingReap = new Set<number>();
  private reaping = false;

  constructor(private readonly options: SshTransportOptions) {
    const port = options.port ?? 22;
    if (!options.privateKey && !options.privateKeyPath) {
      throw new Error(`ssh host "${options.name}": a private key or private key path is required`);
    }
    // No accept-anything mode: without a known_hosts file or a pin there is nothing to verify against.
    if (!options.knownHostsPath && !options.hostKeyFingerprint) {
      throw new Error(`ssh host "${options.name}": a known_hosts file or a host key fingerprint is required`);
    }
    if (options.hostKeyFingerprint && !HOST_KEY_FINGERPRINT_PATTERN.test(options.hostKeyFingerprint)) {
      throw new Error(`ssh host "${options.name}": host key fingerprint must look like ${HOST_KEY_FINGERPRINT_RULE}`);
    }
    this.name = options.name;
    this.address = `${options.username}@${options.host}:${port}`;
    this.target = { address: this.address, host: options.host, port, username: options.username };
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.keepaliveIntervalMs = options.keepaliveIntervalMs ?? 15_000;
    this.keepaliveCountMax = options.keepaliveCountMax ?? 3;
    this.backoffInitialMs = options.backoffInitialMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
    this.channelsPerConnection = options.maxChannels ?? 8;
    const connections = options.maxConnections ?? 2;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new Error(`ssh host "${options.name}": max connections must be a whole number >= 1, got ${connections}`);
    }
    this.slots = Array.from({ length: connections }, () => ({ everConnected: false, active: 0 }));
    this.limiter = new ChannelLimiter(this.channelsPerConnection * connections);
    this.wedgeSuspectMs = options.wedgeSuspectMs ?? 3_000;
    this.wedgeProbeTimeoutMs = options.wedgeProbeTimeoutMs ?? 5_000;
  }

  status(): TransportStatus {
    let state: ConnectionState;
    const main = this.slots[0]!;
    if (main.conn?.alive) state = 'connected';
    else if (main.connecting) state = main.everConnected ? 'reconnecting' : 'connecting';
    else if (this.lastFailure) state = 'failed';
    else state = 'idle';
    const s: TransportStatus = { state, reconnects: this.reconnects, channelsWaiting: this.limiter.waiting };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  async probe(): Promise<void> {
    await this.connection();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.limiter.rejectAll(transportClosed(this.target));
    const conns = this.slots.map((slot) => slot.conn);
    for (const slot of this.slots) slot.conn = undefined;
    await Promise.all(
      conns.map(async (conn) => {
        if (!conn?.alive) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            conn.client.destroy();
            resolve();
          }, 1_000);
          conn.client.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          conn.client.end();
        });
      }),
    );
  }

  /**
   * Say that something is waiting for an answer from the host on the current connection (a channel open,
   * a running command, an SFTP request, a forwarded-port channel); call the returned function when it
   * has its answer or gave up. While anything waits and the host has sent nothing for wedgeSuspectMs, the
   * connection is probed with an SSH keepalive request; no answer within wedgeProbeTimeoutMs drops it, so
   * everything waiting on it fails at once (an exec whose channel never opened is run again on a new
   * connection) and the next call dials again, instead of each call running into its own timeout.
   */
  awaitReply(): () => void {
    const conn = this.slots[0]!.conn;
    return conn?.alive ? this.awaitReplyOn(conn) : () => {};
  }

  private awaitReplyOn(conn: Connection): () => void {
    if (conn.waiting++ === 0) {
      // Silence is counted from when someone started waiting, not from the last traffic of an idle connection.
      conn.lastHeard = Math.max(conn.lastHeard, performance.now());
      conn.watchdog = setInterval(() => this.checkWedged(conn), WEDGE_CHECK_EVERY_MS);
      conn.watchdog.unref();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--conn.waiting === 0) {
        clearInterval(conn.watchdog);
        conn.watchdog = undefined;
      }
    };
  }

  private checkWedged(conn: Connection): void {
    if (!conn.alive || conn.probing || performance.now() - conn.lastHeard < this.wedgeSuspectMs) return;
    const timer = setTimeout(() => {
      conn.probing = false;
      this.markDead(
        conn,
        `no answer to an SSH keepalive within ${formatSeconds(this.wedgeProbeTimeoutMs)} after ${formatSeconds(this.wedgeSuspectMs)} of silence`,
      );
    }, this.wedgeProbeTimeoutMs);
    const sent = sendKeepalive(conn.client, () => {
      clearTimeout(timer);
      conn.probing = false;
      // Any reply, even a refusal, proves the path works (the bytes also moved lastHeard).
      conn.lastHeard = performance.now();
    });
    if (sent) conn.probing = true;
    else clearTimeout(timer);
  }

  /** An SFTP session on the shared connection; opened once and re-opened after a reconnect. */
  async sftp(): Promise<SFTPWrapper> {
    const conn = await this.connection();
    if (!conn.sftp) {
      const opening = new Promise<SFTPWrapper>((resolve, reject) => {
        const answered = this.awaitReplyOn(conn);
        const timer = setTimeout(() => {
          answered();
          reject(channelOpenError(this.target, `no SFTP session within ${this.connectTimeoutMs} ms`));
        }, this.connectTimeoutMs);
        try {
          conn.client.sftp((err, sftp) => {
            answered();
            clearTimeout(timer);
            if (err) return reject(channelOpenError(this.target, `SFTP: ${err.message}`));
            sftp.on('close', () => {
              if (conn.sftp === opening) conn.sftp = undefined;
            });
            resolve(sftp);
          });
        } catch (err) {
          answered();
          clearTimeout(timer);
          reject(channelOpenError(this.target, (err as Error).message));
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

  // ---- Forwarded connections (Ollama through the SSH connection) ----------------------------------

  /**
   * A TCP connection from the SSH host to `host:port` (as that host sees them) over a direct-tcpip
   * channel on the shared connection, as a socket for an http.Agent. Not counted against maxChannels:
   * sshd's MaxSessions limits shell, exec and subsystem sessions only, not forwarded connections
   * (sshd_config(5); checked with MaxSessions 1 in the tunnel tests). Rejects with the connection's
   * AppError when SSH itself fails, or a ForwardError when the channel is refused, silent or lost.
   */
  async forwardOut(host: string, port: number, options: { timeoutMs: number }): Promise<Duplex> {
    if (this.closed) throw transportClosed(this.target);
    const conn = await this.connection();
    const dest = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const lost = () => new ForwardError('SSH_CONNECTION_DROPPED', `the SSH connection to ${this.address} dropped`, this.address);
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      let settled = false;
      // The open waits for an answer: a silent connection is probed and dropped like one under an exec.
      const answered = this.awaitReplyOn(conn);
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
              `${this.address} did not open a forwarded connection to ${dest} within ${formatSeconds(options.timeoutMs)}`,
              this.address,
            ),
          ),
        options.timeoutMs,
      );
      const onDrop = () => settle(lost());
      conn.onDrop.add(onDrop);
      try {
        // The originator address and port are informational (sshd logs them); nothing listens there.
        conn.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
          if (err) {
            const e = err as Error & { reason?: unknown };
            const description = e.message.replace(/^\(SSH\) Channel open failure: /, '');
            return settle(conn.alive ? forwardOpenError(this.target, dest, e.reason, description) : lost());
          }
          settle(undefined, ch);
        });
      } catch (err) {
        // ssh2 throws "Not connected" synchronously when the socket went away under us.
        this.markDead(conn, (err as Error).message);
        settle(lost());
      }
    });
    const socket = new TunnelSocket(channel, () => (conn.alive ? undefined : lost()));
    const onDrop = () => socket.destroy(lost());
    conn.onDrop.add(onDrop);
    socket.once('close', () => conn.onDrop.delete(onDrop));
    return socket;
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    if (this.closed) throw transportClosed(this.target);
    options.signal?.throwIfAborted();

    // Until the command is running, the call can be cancelled by the caller or by its own timeout
    // (waiting for a channel slot or for the connection counts against the command's time).
    const preStart = new AbortController();
    let waitingFor = 'a free SSH channel';
    const deadline = setTimeout(
      () => preStart.abort(notStartedInTime(this.target, options.timeoutMs, waitingFor)),
      Math.max(0, options.timeoutMs),
    );
    const onCallerAbort = () => preStart.abort(options.signal!.reason);
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });

    let release: (() => void) | undefined;
    let conn: Connection | undefined;
    let channel: ClientChannel | undefined;
    try {
      release = await this.limiter.acquire(preStart.signal);
      // The limiter holds the total; the channels go to the first connection with one free, so a
      // second connection is dialled only once the first has all its channels busy.
      const slot = this.slots.find((sl) => sl.active < this.channelsPerConnection)!;
      slot.active++;
      const releaseSlot = release;
      release = () => {
        slot.active--;
        releaseSlot();
      };
      const fullCommand = withPidPreamble(withCwd(command, options.cwd));
      for (let attempt = 0; ; attempt++) {
        waitingFor = `the SSH connection to ${this.address}`;
        conn = await abortable(this.connection(slot), preStart.signal);
        waitingFor = 'the session channel to open';
        try {
          channel = await abortable(this.openExecRetrying(conn, fullCommand, preStart.signal), preStart.signal, (late) => {
            // The channel opened after we gave up on it: kill whatever started and let go of it.
            late.then(
              (ch) => killChannel(ch),
              () => {},
            );
          });
          break;
        } catch (err) {
          // The connection went away (found wedged, or dropped) before sshd confirmed the channel, so the
          // command never reached the host: run it once more on a new connection.
          if (attempt === 0 && notStartedDrops.has(err as object)) continue;
          throw err;
        }
      }
    } catch (err) {
      release?.();
      throw err;
    } finally {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onCallerAbort);
    }

    try {
      return await this.run(conn!, channel!, options, started);
    } finally {
      release!();
    }
  }

  private run(conn: Connection, channel: ClientChannel, options: ExecOptions, started: number): Promise<ExecResult> {
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
      const answered = this.awaitReplyOn(conn);

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
            if (preamble.pid !== undefined) this.reap(conn, preamble.pid);
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
        if (!gotExit && !killedFor) finish(droppedDuringExec(this.target));
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
      channel.on('exit', (code: number | null, signal?: string) => {
        gotExit = true;
        if (typeof code === 'number') exitCode = code;
        if (signal) exitSignal = signal.replace(/^SIG/, '');
      });
      channel.on('error', () => {
        /* surfaced through close / drop */
      });
      channel.on('close', (code?: number | null, signal?: string) => {
        // When a whole exchange arrives in one TCP read, ssh2 emits 'exit' while parsing it, before
        // this listener set exists; it passes the same status to 'close', so take it from there.
        if (!gotExit && (typeof code === 'number' || signal)) {
          gotExit = true;
          if (typeof code === 'number') exitCode = code;
          if (signal) exitSignal = signal.replace(/^SIG/, '');
        }
        // ssh2 closes every channel when the socket closes; the connection's own close handler ran
        // first and marked it dead, so tell a drop from a normal end here.
        if (!conn.alive && !gotExit && !killedFor) finish(droppedDuringExec(this.target));
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
   * Kill remote process groups by pid, batched into one extra channel at a time (so a burst of timeouts
   * costs one session, not one each: keep maxChannels + SFTP + this one within MaxSessions). Best effort.
   */
  private reap(conn: Connection, pid: number): void {
    this.pendingReap.add(pid);
    if (this.reaping) return;
    this.reaping = true;
    void (async () => {
      try {
        while (this.pendingReap.size > 0 && conn.alive) {
          const pids = [...this.pendingReap];
          this.pendingReap.clear();
          // A negative pid names a process group; `--` keeps it from being read as a signal option.
          const command = `kill -s KILL -- ${pids.map((p) => `-${p}`).join(' ')} 2>/dev/null; true`;
          try {
            const ch = await this.openExecRetrying(conn, command, new AbortController().signal);
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
        this.pendingReap.clear();
        this.reaping = false;
      }
    })();
  }

  /**
   * sshd frees a closed session only in its next cleanup pass, so an open that follows a close on the
   * same connection can briefly find MaxSessions still taken ("open failed") even though we hold fewer
   * channels than that. Such refusals are retried, at once and then with a short backoff, before they
   * count. Sleeping after every refusal would idle the channel slot for longer than sshd needs.
   */
  private async openExecRetrying(conn: Connection, command: string, signal: AbortSignal): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.openExec(conn, command);
      } catch (err) {
        if (!retryableOpenFailures.has(err as object) || attempt >= OPEN_RETRIES || !conn.alive || signal.aborted) {
          throw err;
        }
        if (attempt >= OPEN_RETRIES_AT_ONCE) await new Promise((r) => setTimeout(r, 20 * 2 ** (attempt - OPEN_RETRIES_AT_ONCE)));
      }
    }
  }

  private openExec(conn: Connection, command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const answered = this.awaitReplyOn(conn);
      try {
        conn.client.exec(command, (err, channel) => {
          answered();
          if (err) {
            if (!conn.alive) {
              // ssh2 answers a channel open still unconfirmed at the drop with this error; once the channel
              // is open, the exec request that follows fails with "Unable to exec" instead, and then the
              // command may have started.
              if (err.message === 'No response from server') {
                const notStarted = droppedBeforeStart(this.target);
                notStartedDrops.add(notStarted);
                return reject(notStarted);
              }
              return reject(droppedDuringExec(this.target));
            }
            const refused = channelOpenError(this.target, err.message);
            retryableOpenFailures.add(refused);
            return reject(refused);
          }
          resolve(channel);
        });
      } catch (err) {
        answered();
        // ssh2 throws "Not connected" synchronously when the socket went away under us: nothing was sent.
        this.markDead(conn, (err as Error).message);
        const notStarted = droppedBeforeStart(this.target);
        notStartedDrops.add(notStarted);
        reject(notStarted);
      }
    });
  }

  /** The slot's live connection (the warm one by default), dialling if there is none; fails fast inside the backoff window. */
  private connection(slot: Slot = this.slots[0]!): Promise<Connection> {
    if (this.closed) return Promise.reject(transportClosed(this.target));
    if (slot.conn?.alive) return Promise.resolve(slot.conn);
    if (slot.connecting) return slot.connecting;
    if (this.lastFailure && Date.now() < this.retryAt) {
      // Don't hammer a host that just failed: answer with the same error until the window passes.
      const f = this.lastFailure;
      return Promise.reject(new AppError(f.status, f.code, f.message));
    }
    const attempt = this.connect().then(
      (conn) => {
        slot.connecting = undefined;
        if (this.closed) {
          // close() ran while we were dialling: don't keep a connection nobody will close.
          conn.client.end();
          throw transportClosed(this.target);
        }
        if (slot.everConnected) this.reconnects++;
        slot.everConnected = true;
        this.failures = 0;
        this.lastFailure = undefined;
        slot.conn = conn;
        return conn;
      },
      (err: AppError) => {
        slot.connecting = undefined;
        this.failures++;
        const backoff = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (this.failures - 1));
        this.retryAt = Date.now() + backoff;
        this.lastFailure = err;
        this.lastError = err.message;
        throw err;
      },
    );
    slot.connecting = attempt;
    return attempt;
  }

  private async connect(): Promise<Connection> {
    const t = this.target;
    const keyDescription = this.options.privateKeyPath ? `the private key ${this.options.privateKeyPath}` : 'the configured private key';
    let privateKey: Buffer | string;
    if (this.options.privateKey) {
      privateKey = this.options.privateKey;
    } else {
      try {
        privateKey = await readFile(this.options.privateKeyPath!);
      } catch (err) {
        throw keyReadError(t, this.options.privateKeyPath!, (err as NodeJS.ErrnoException).code);
      }
    }
    const knownHosts = await this.loadKnownHosts();
    const names = [knownHostsName(t.host.toLowerCase(), t.port)];
    const algorithms = this.options.hostKeyFingerprint ? undefined : preferredHostKeyAlgorithms(knownHosts, names);
    const serverHostKey = algorithms?.filter((a) => SSH2_HOST_KEY_ALGORITHMS.has(a));

    return new Promise<Connection>((resolve, reject) => {
      const client = new Client();
      const sock = new net.Socket();
      let settled = false;
      let tcpConnected = false;
      let hostKeyProblem: AppError | undefined;

      const fail = (err: AppError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners('ready');
        // Keep a no-op error listener: ssh2 may still emit while tearing down.
        client.on('error', () => {});
        sock.destroy();
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(
          connectError(t, {
            err: new Error('connect timeout'),
            tcpConnected,
            timedOut: true,
            timeoutMs: this.connectTimeoutMs,
            keyDescription,
          }),
        );
      }, this.connectTimeoutMs);

      sock.on('error', () => {
        /* ssh2 reports socket errors through the client's 'error' event */
      });
      // TCP_NODELAY: without it Nagle's algorithm and delayed ACKs add ~40 ms to every exec.
      sock.setNoDelay(true);
      sock.on('connect', () => {
        tcpConnected = true;
        sock.setNoDelay(true);
        if (sock.remoteAddress && sock.remoteAddress !== t.host) {
          names.push(knownHostsName(sock.remoteAddress, t.port));
        }
      });

      const hostVerifier = (key: Buffer): boolean => {
        const problem = this.verifyHostKey(key, knownHosts, names);
        if (problem) hostKeyProblem = problem;
        return !problem;
      };

      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (hostKeyProblem) return fail(hostKeyProblem);
        fail(connectError(t, { err, tcpConnected, timedOut: false, timeoutMs: this.connectTimeoutMs, keyDescription }));
      });
      client.on('close', () => {
        if (hostKeyProblem) return fail(hostKeyProblem);
        fail(
          connectError(t, {
            err: new Error('connection lost before login completed'),
            tcpConnected,
            timedOut: false,
            timeoutMs: this.connectTimeoutMs,
            keyDescription,
          }),
        );
      });
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const conn: Connection = { client, alive: true, onDrop: new Set(), lastHeard: performance.now(), waiting: 0, probing: false };
        sock.on('data', () => (conn.lastHeard = performance.now()));
        let lastErr: string | undefined;
        client.removeAllListeners('error');
        client.removeAllListeners('close');
        // Keepalive timeout, protocol error: remembered for the 'close' that follows.
        client.on('error', (err: Error) => (lastErr = err.message));
        client.on('close', () => this.markDead(conn, lastErr ?? 'connection closed'));
        resolve(conn);
      });

      const config: ConnectConfig = {
        sock,
        username: t.username,
        privateKey,
        passphrase: this.options.passphrase,
        // Our own timer above gives the clearer message; this is ssh2's backstop.
        readyTimeout: this.connectTimeoutMs + 1_000,
        keepaliveInterval: this.keepaliveIntervalMs,
        keepaliveCountMax: this.keepaliveCountMax,
        hostVerifier,
      };
      if (serverHostKey && serverHostKey.length > 0) {
        config.algorithms = { serverHostKey: serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
      }
      sock.connect(t.port, t.host);
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 parses the private key synchronously: wrong passphrase or not a key.
        fail(keyParseError(t, keyDescription, (err as Error).message));
      }
    });
  }

  /** Returns the error to refuse the key with, or undefined when the key is trusted. */
  private verifyHostKey(key: Buffer, knownHosts: KnownHostEntry[], names: string[]): AppError | undefined {
    const pinned = this.options.hostKeyFingerprint;
    const verdict = checkHostKey(knownHosts, names, key);
    if (verdict.result === 'revoked') return this.hostKeyProblem(key, { verdict: 'revoked' });
    if (pinned && fingerprintMatches(key, pinned)) return undefined;
    if (verdict.result === 'trusted') return undefined;
    if (verdict.result === 'changed') {
      return this.hostKeyProblem(key, { verdict: 'changed', changedLines: verdict.lines });
    }
    if (pinned && !this.options.knownHostsPath) {
      return this.hostKeyProblem(key, { verdict: 'pin-mismatch', pinned: normaliseFingerprint(pinned) });
    }
    return this.hostKeyProblem(key, {
      verdict: pinned ? 'pin-mismatch' : 'unknown',
      pinned: pinned ? normaliseFingerprint(pinned) : undefined,
    });
  }

  private hostKeyProblem(key: Buffer, p: Pick<HostKeyProblem, 'verdict' | 'changedLines' | 'pinned'>): AppError {
    const err = hostKeyError(this.target, {
      ...p,
      keyType: keyTypeOfBlob(key),
      fingerprint: fingerprintSha256(key),
      knownHostsPath: this.options.knownHostsPath,
      knownHostsName: knownHostsName(this.target.host.toLowerCase(), this.target.port),
    });
    return err;
  }

  private async loadKnownHosts(): Promise<KnownHostEntry[]> {
    if (!this.options.knownHostsPath) return [];
    try {
      // Read at every connect so a key added with ssh-keyscan is picked up without a restart.
      return parseKnownHosts(await readFile(this.options.knownHostsPath, 'utf8'));
    } catch {
      // Missing or unreadable: nothing is trusted from it, and the refusal message says how to add the key.
      return [];
    }
  }

  private markDead(conn: Connection, reason: string): void {
    if (!conn.alive) return;
    conn.alive = false;
    conn.sftp = undefined;
    clearInterval(conn.watchdog);
    conn.watchdog = undefined;
    for (const slot of this.slots) if (slot.conn === conn) slot.conn = undefined;
    if (!this.closed) this.lastError = `The SSH connection to ${this.address} dropped (${reason}); it is re-opened on the next call.`;
    for (const cb of [...conn.onDrop]) cb();
    conn.onDrop.clear();
    conn.client.destroy();
  }
}

/**
 * Send a signal request on an exec channel. ssh2's channel.signal() silently does nothing once we have
 * sent EOF (it checks `writable`), and exec() sends EOF at once to close the command's stdin; the
 * request is still valid SSH after EOF (EOF only ends our data direction) and sshd honours it. So go to
 * the protocol object directly while the channel is open or half-closed, as channel.signal() itself does
 * (ssh2 1.17; the ssh-transport integration test fails if that internal moves).
 */
function sendSignal(channel: ClientChannel, name: string): void {
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

function killChannel(channel: ClientChannel): void {
  sendSignal(channel, 'KILL');
  try {
    channel.close();
  } catch {
    /* already closed */
  }
}

/** Race `p` against `signal`; `onLate` gets `p` when the signal won, to clean up what it yields later. */
function abortable<T>(p: Promise<T>, signal: AbortSignal, onLate?: (p: Promise<T>) => void): Promise<T> {
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
