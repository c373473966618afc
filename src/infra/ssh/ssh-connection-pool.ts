/**
 * The connections to one host: the warm one everything uses, plus more dialled only for exec bursts;
 * opened on first use, re-opened lazily after a drop, and failing fast inside a backoff window after a
 * failed dial so a down host is not hammered.
 */
import { AppError } from '../../common/errors.js';
import type { ConnectionState } from '../transport.js';
import { dialSsh, type DialOptions } from './ssh-connect.js';
import type { SshConnection } from './ssh-connection.js';
import { transportClosed } from './ssh-errors.js';
import { IdleWarmShells } from './warm-shell.js';

export interface Slot {
  conn?: SshConnection;
  connecting?: Promise<SshConnection>;
  everConnected: boolean;
  /** Exec calls holding a channel on this slot's connection. */
  active: number;
  /** Warm shells open on this slot's connection with no command running (each holds a session). */
  idleShells: IdleWarmShells;
}

export interface PoolOptions {
  dial: DialOptions;
  /** SSH connections at most (>= 1). */
  connections: number;
  /** First fail-fast window after a failed dial; doubles per failure up to backoffMaxMs. */
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export class SshConnectionPool {
  /** slots[0] is the host's warm connection (SFTP, awaitReply, probe); the others serve exec bursts. */
  readonly slots: Slot[];
  reconnects = 0;
  /** Last connection error message (already safe to show), if any. */
  lastError: string | undefined;
  closed = false;
  private failures = 0;
  private retryAt = 0;
  private lastFailure: AppError | undefined;

  constructor(private readonly options: PoolOptions) {
    this.slots = Array.from({ length: options.connections }, () => ({ everConnected: false, active: 0, idleShells: new IdleWarmShells() }));
  }

  /** The state of the warm connection. */
  state(): ConnectionState {
    const main = this.slots[0]!;
    if (main.conn?.alive) return 'connected';
    if (main.connecting) return main.everConnected ? 'reconnecting' : 'connecting';
    if (this.lastFailure) return 'failed';
    return 'idle';
  }

  /** The slot's live connection (the warm one by default), dialling if there is none; fails fast inside the backoff window. */
  connection(slot: Slot = this.slots[0]!): Promise<SshConnection> {
    const target = this.options.dial.target;
    if (this.closed) return Promise.reject(transportClosed(target));
    if (slot.conn?.alive) return Promise.resolve(slot.conn);
    if (slot.connecting) return slot.connecting;
    if (this.lastFailure && Date.now() < this.retryAt) {
      // Don't hammer a host that just failed: answer with the same error until the window passes.
      const f = this.lastFailure;
      return Promise.reject(new AppError(f.status, f.code, f.message));
    }
    const attempt = dialSsh(this.options.dial, (conn, reason) => this.forget(conn, reason)).then(
      (conn) => {
        slot.connecting = undefined;
        if (this.closed) {
          // close() ran while we were dialling: don't keep a connection nobody will close.
          conn.client.end();
          throw transportClosed(target);
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
        const backoff = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** (this.failures - 1));
        this.retryAt = Date.now() + backoff;
        this.lastFailure = err;
        this.lastError = err.message;
        throw err;
      },
    );
    slot.connecting = attempt;
    return attempt;
  }

  /** Ends every connection (destroying one that does not close within a second); later calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
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

  /** A connection died: the next call on its slot dials again. */
  private forget(conn: SshConnection, reason: string): void {
    for (const slot of this.slots) if (slot.conn === conn) slot.conn = undefined;
    if (!this.closed) {
      this.lastError = `The SSH connection to ${this.options.dial.target.address} dropped (${reason}); it is re-opened on the next call.`;
    }
  }
}
