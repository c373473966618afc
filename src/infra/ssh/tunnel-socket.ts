import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';

/**
 * A forwarded (direct-tcpip) SSH channel dressed as the net.Socket that an http.Agent expects.
 *
 * ssh2's channel is a Duplex, but its destroy() only asks sshd to close (the stream is not destroyed
 * until sshd answers, and it takes no error), and it lacks the socket methods Node's HTTP client, its
 * Agent and axios call (setKeepAlive, setNoDelay, setTimeout, ref, unref). Here destroy() is the stream
 * standard one: immediate, carrying its error, and it closes the channel, which makes sshd close its TCP
 * connection to the target (so a cancelled pull stops on the Ollama side).
 */
export class TunnelSocket extends Duplex {
  /** As on net.Socket: the idle timeout set with setTimeout(), 0 when none. The Agent reads it. */
  timeout = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * @param closedError called when the channel closes without our asking: the error to end with (the
   *   SSH connection dropped), or undefined for an ordinary close by the far end.
   */
  constructor(
    private readonly channel: ClientChannel,
    closedError: () => Error | undefined,
  ) {
    super({ allowHalfOpen: false });
    channel.on('data', (chunk: Buffer) => {
      this.touch();
      if (!this.push(chunk)) channel.pause();
    });
    channel.on('end', () => this.push(null));
    channel.on('error', (err: Error) => this.destroy(err));
    channel.on('close', () => {
      if (!this.destroyed) this.destroy(closedError());
    });
  }

  override _read(): void {
    this.channel.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.touch();
    this.channel.write(chunk, encoding, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.channel.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    try {
      this.channel.close();
    } catch {
      /* the connection is already gone */
    }
    callback(err);
  }

  /** Idle timeout, as net.Socket's: 'timeout' after `ms` without data either way (the Agent uses it for free sockets). */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback) this.once('timeout', callback);
    this.touch();
    return this;
  }

  // TCP options of the SSH connection's own socket apply (it has no-delay and SSH keepalive); a
  // channel has none of its own. The process is kept alive (or not) by that socket too.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.timeout > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.timeout);
      this.idleTimer.unref();
    }
  }
}
