/**
 * The ssh transport: one long-lived ssh2 connection per host (a handshake per call would cost more than
 * most calls), opened on first use, re-opened lazily after a drop, with a bounded number of channels and
 * verified host keys. This class only wires the parts together: dialling and host keys (ssh-connect.ts),
 * the connections and their backoff (ssh-connection-pool.ts), the wedge probe (ssh-connection.ts),
 * opening channels (ssh-channels.ts) and running a command on one (ssh-exec.ts).
 */
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { HOST_KEY_FINGERPRINT_PATTERN, HOST_KEY_FINGERPRINT_RULE } from '../../config/host-names.js';
import { withCwd } from '../shell-quote.js';
import type { ExecOptions, ExecResult, HostTransport, TransportStatus } from '../transport.js';
import { ChannelLimiter } from './channel-limiter.js';
import { withPidPreamble } from './pid-preamble.js';
import { abortable, isNotStartedDrop, notStartedDrop, openExecRetrying, openForward, openSftp } from './ssh-channels.js';
import { SshConnectionPool, type Slot } from './ssh-connection-pool.js';
import type { SshConnection } from './ssh-connection.js';
import { notStartedInTime, transportClosed, type SshTarget } from './ssh-errors.js';
import { killChannel, ProcessGroupReaper, runOnChannel } from './ssh-exec.js';
import { WarmShell } from './warm-shell.js';

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
   * at most sshd's MaxSessions (default 10) minus 2. An upper bound: after sshd refuses a session, the
   * connection takes no more than sshd held then (see SshConnection.execLimit).
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
  /**
   * Run commands in warm shells (warm-shell.ts) instead of a new session each (default true); hosts
   * without setsid(1) get a session each anyway.
   */
  warmShells?: boolean;
}

/**
 * How recently the host must have sent something for a command to go to an idle warm shell without
 * asking the host first. Back-to-back calls skip that round trip (0.3 ms here); a path that dies within
 * this window fails the command written into it as dropped while running (503, "may or may not have
 * completed"), as it does a command already running then.
 */
const RECENT_ANSWER_MS = 500;

export class SshTransport implements HostTransport {
  readonly kind = 'ssh' as const;
  readonly address: string;
  readonly name: string;

  private readonly target: SshTarget;
  private readonly connectTimeoutMs: number;
  private readonly limiter: ChannelLimiter;
  private readonly pool: SshConnectionPool;
  private readonly channelsPerConnection: number;
  private readonly reaper: ProcessGroupReaper;
  private readonly warmShells: boolean;
  /** Connections whose host cannot run a warm shell. */
  private readonly noWarmShells = new WeakSet<SshConnection>();

  constructor(options: SshTransportOptions) {
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
    this.channelsPerConnection = options.maxChannels ?? 8;
    const connections = options.maxConnections ?? 2;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new Error(`ssh host "${options.name}": max connections must be a whole number >= 1, got ${connections}`);
    }
    this.limiter = new ChannelLimiter(this.channelsPerConnection * connections);
    this.reaper = new ProcessGroupReaper(this.target, (conn) => this.sessionRefused(conn));
    this.warmShells = options.warmShells ?? true;
    this.pool = new SshConnectionPool({
      dial: {
        target: this.target,
        privateKey: options.privateKey,
        privateKeyPath: options.privateKeyPath,
        passphrase: options.passphrase,
        knownHostsPath: options.knownHostsPath,
        hostKeyFingerprint: options.hostKeyFingerprint,
        connectTimeoutMs: this.connectTimeoutMs,
        keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: options.keepaliveCountMax ?? 3,
        wedge: { suspectMs: options.wedgeSuspectMs ?? 3_000, probeTimeoutMs: options.wedgeProbeTimeoutMs ?? 5_000 },
      },
      connections,
      backoffInitialMs: options.backoffInitialMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 5_000,
    });
  }

  status(): TransportStatus {
    const s: TransportStatus = { state: this.pool.state(), reconnects: this.pool.reconnects, channelsWaiting: this.limiter.waiting };
    if (this.pool.lastError) s.lastError = this.pool.lastError;
    return s;
  }

  async probe(): Promise<void> {
    await this.pool.connection();
  }

  async close(): Promise<void> {
    if (this.pool.closed) return;
    const closing = this.pool.close();
    // Calls still queued for a channel fail now instead of waiting for one that never comes.
    this.limiter.rejectAll(transportClosed(this.target));
    await closing;
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
    const conn = this.pool.slots[0]!.conn;
    return conn?.alive ? conn.awaitReply() : () => {};
  }

  /** An SFTP session on the shared connection; opened once and re-opened after a reconnect. */
  async sftp(): Promise<SFTPWrapper> {
    const conn = await this.pool.connection();
    let gaveBack = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await openSftp(conn, this.target, this.connectTimeoutMs);
      } catch (err) {
        if (!conn.alive || attempt >= 5) throw err;
        // sshd had no session left: idle warm shells give theirs back, one at a time, until SFTP gets one.
        if (this.retireIdleShell(conn)) {
          gaveBack = true;
          await conn.nextExecClose(AbortSignal.timeout(this.connectTimeoutMs)).catch(() => false);
          continue;
        }
        // Nothing of ours to give back; after a close, sshd frees the session in a later pass: ask again.
        if (!gaveBack) throw err;
      }
    }
  }

  /**
   * A TCP connection from the SSH host to `host:port` (as that host sees them) over a direct-tcpip
   * channel on the shared connection, as a socket for an http.Agent. Not counted against maxChannels:
   * sshd's MaxSessions limits shell, exec and subsystem sessions only, not forwarded connections
   * (sshd_config(5); checked with MaxSessions 1 in the tunnel tests). Rejects with the connection's
   * AppError when SSH itself fails, or a ForwardError when the channel is refused, silent or lost.
   */
  async forwardOut(host: string, port: number, options: { timeoutMs: number }): Promise<Duplex> {
    if (this.pool.closed) throw transportClosed(this.target);
    return openForward(await this.pool.connection(), this.target, host, port, options.timeoutMs);
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    if (this.pool.closed) throw transportClosed(this.target);
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
    let conn: SshConnection | undefined;
    let channel: ClientChannel | undefined;
    let shell: WarmShell | undefined;
    let slot: Slot | undefined;
    const fullCommand = withPidPreamble(withCwd(command, options.cwd));
    try {
      release = await this.limiter.acquire(preStart.signal);
      // The limiter holds the total; the channels go to the first connection with one free, so a
      // second connection is dialled only once the first has all its channels busy.
      // (Right after a refusal lowered a limit the counts may not add up for a moment: take the warm one.)
      const free = this.pool.slots.find((sl) => sl.active < this.execLimit(sl)) ?? this.pool.slots[0]!;
      slot = free;
      free.active++;
      const releaseSlot = release;
      release = () => {
        free.active--;
        releaseSlot();
      };
      for (let attempt = 0; ; attempt++) {
        waitingFor = `the SSH connection to ${this.address}`;
        // The usual case, a live connection, needs no race against the deadline.
        conn = slot.conn?.alive ? slot.conn : await abortable(this.pool.connection(slot), preStart.signal);
        waitingFor = 'the session channel to open';
        try {
          // Long-lived commands whose output is read as it comes (the GPU sampler) keep a channel each.
          if (this.warmShells && !options.onStdout && !this.noWarmShells.has(conn)) {
            shell = await this.warmShellFor(slot, conn, preStart.signal, (what) => (waitingFor = what));
            if (shell) break;
          }
          // Idle warm shells hold sessions too: give one back to sshd if this channel would exceed the slot's share.
          if (slot.active + slot.idleShells.count > this.execLimit(slot)) slot.idleShells.retireOne();
          const onConn = conn;
          const opening = openExecRetrying(conn, this.target, fullCommand, preStart.signal, () => this.sessionRefused(onConn));
          channel = await abortable(opening, preStart.signal, (late) => {
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
          if (attempt === 0 && isNotStartedDrop(err)) continue;
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

    const opened = conn!;
    // An open that went through may have raised the connection's limit.
    this.fitCapacity();
    try {
      if (!shell) return await runOnChannel(opened, channel!, options, started, this.target, this.reaper);
      const result = await shell.run(fullCommand, options, started, this.target, this.reaper);
      slot!.idleShells.put(shell);
      return result;
    } finally {
      release!();
    }
  }

  /**
   * An idle warm shell of the slot, or a new one; undefined when the host cannot run one. An idle shell
   * is used at once when the host sent something on its connection within RECENT_ANSWER_MS; after a
   * quieter spell the host is asked first (a keepalive request), so a command is not written into a path
   * that died unnoticed meanwhile: held back, it runs on the next connection instead.
   */
  private async warmShellFor(
    slot: Slot,
    conn: SshConnection,
    signal: AbortSignal,
    waiting: (what: string) => void,
  ): Promise<WarmShell | undefined> {
    const idle = slot.idleShells.take(conn);
    if (!idle) return abortable(this.openWarmShell(conn, signal), signal);
    if (conn.heardWithin(RECENT_ANSWER_MS)) return idle;
    waiting('an answer from the host');
    // Given up before the answer: the shell ran nothing and can serve the next call.
    const answered = await abortable(conn.hostAnswers(), signal, (late) => late.then((ok) => ok && slot.idleShells.put(idle)));
    if (!answered) throw notStartedDrop(this.target);
    return idle;
  }

  /** A new warm shell on `conn`, or undefined when the host cannot run one (then remembered for the connection). */
  private async openWarmShell(conn: SshConnection, signal: AbortSignal): Promise<WarmShell | undefined> {
    const shell = await WarmShell.open(conn, this.target, signal, () => this.sessionRefused(conn));
    if (!shell) this.noWarmShells.add(conn);
    return shell;
  }

  /** Exec channels the slot's connection takes: the configured maximum, or less where sshd refused more. */
  private execLimit(slot: Slot): number {
    const learned = slot.conn?.alive ? slot.conn.execLimit : Infinity;
    return Math.min(this.channelsPerConnection, learned);
  }

  /**
   * sshd refused a session on `conn`: the connection's learned limit may have dropped, and an idle warm
   * shell there gives its session back, so the refused open (which waits for one of our channels to
   * close) gets one.
   */
  private sessionRefused(conn: SshConnection): void {
    this.fitCapacity();
    this.retireIdleShell(conn);
  }

  /** Close the least recently used idle warm shell on `conn`, so its session is free; false if none. */
  private retireIdleShell(conn: SshConnection): boolean {
    return this.pool.slots.find((slot) => slot.conn === conn)?.idleShells.retireOne() ?? false;
  }

  /** The limiter lets through as many calls as the connections take together (see SshConnection.execLimit). */
  private readonly fitCapacity = (): void => {
    let total = 0;
    for (const slot of this.pool.slots) total += this.execLimit(slot);
    if (total !== this.limiter.capacity) this.limiter.setCapacity(total);
  };
}
