/**
 * TunnelSocket's stream semantics, against a stand-in for ssh2's channel that behaves as ssh2 1.17's
 * does where it matters: destroy() and close() only ask for a close, and 'close' comes later, after
 * 'end'. The real channel is exercised end to end in test/integration/ollama-tunnel.test.ts.
 */
import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import { TunnelSocket } from '../../src/infra/ssh/tunnel-socket.js';

class FakeChannel extends Duplex {
  closeRequests = 0;
  written: Buffer[] = [];
  ended = false;
  constructor() {
    super({ emitClose: false });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(chunk);
    cb();
  }
  override _final(cb: () => void): void {
    this.ended = true;
    cb();
  }
  close(): void {
    this.closeRequests++;
  }
  /** sshd closed the channel: ssh2 pushes EOF, then emits 'close'. */
  remoteClose(): void {
    this.push(null);
    this.emit('close');
  }
}

const make = (closedError: () => Error | undefined = () => undefined) => {
  const channel = new FakeChannel();
  const socket = new TunnelSocket(channel as unknown as ClientChannel, closedError);
  return { channel, socket };
};

describe('TunnelSocket', () => {
  it('passes bytes both ways', async () => {
    const { channel, socket } = make();
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.write('GET / HTTP/1.1\r\n\r\n');
    channel.push(Buffer.from('HTTP/1.1 200 OK\r\n'));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(channel.written).toString()).toBe('GET / HTTP/1.1\r\n\r\n');
    expect(Buffer.concat(got).toString()).toBe('HTTP/1.1 200 OK\r\n');
  });

  it('destroy(err) is immediate, carries the error and asks sshd to close the channel', async () => {
    const { channel, socket } = make();
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    const closed = new Promise((r) => socket.once('close', r));
    socket.destroy(new Error('cancelled'));
    expect(socket.destroyed).toBe(true);
    await closed;
    expect(errors.map((e) => e.message)).toEqual(['cancelled']);
    expect(channel.closeRequests).toBe(1);
  });

  it('a close from the far end destroys it, with the error closedError() gives (the SSH connection dropped)', async () => {
    const dropped = new Error('the SSH connection dropped');
    const { channel, socket } = make(() => dropped);
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    socket.resume();
    channel.remoteClose();
    await new Promise((r) => socket.once('close', r));
    expect(errors).toEqual([dropped]);
  });

  it('an ordinary close from the far end ends it without an error', async () => {
    const { channel, socket } = make();
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    socket.resume();
    channel.remoteClose();
    await new Promise((r) => socket.once('close', r));
    expect(errors).toEqual([]);
    expect(socket.destroyed).toBe(true);
  });

  it('stops reading the channel while nobody reads the socket, and resumes when they do', async () => {
    const { channel, socket } = make();
    const big = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 8; i++) channel.push(big); // past the socket's 16 KiB high-water mark
    await new Promise((r) => setImmediate(r));
    expect(channel.isPaused()).toBe(true);
    let bytes = 0;
    socket.on('data', (d: Buffer) => (bytes += d.length));
    await new Promise((r) => setImmediate(r));
    expect(bytes).toBe(8 * big.length);
    expect(channel.isPaused()).toBe(false);
  });

  it("setTimeout(ms) emits 'timeout' after ms without traffic, as net.Socket does; 0 turns it off", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { channel, socket } = make();
      socket.resume();
      let timeouts = 0;
      socket.setTimeout(50, () => timeouts++);
      expect(socket.timeout).toBe(50);
      vi.advanceTimersByTime(40);
      channel.push(Buffer.from('x')); // traffic re-arms the timer
      await new Promise((r) => process.nextTick(r));
      await new Promise((r) => process.nextTick(r));
      vi.advanceTimersByTime(40);
      expect(timeouts).toBe(0);
      vi.advanceTimersByTime(20);
      expect(timeouts).toBe(1);
      socket.setTimeout(0);
      vi.advanceTimersByTime(1_000);
      expect(timeouts).toBe(1);
      socket.destroy();
    } finally {
      vi.useRealTimers();
    }
  });

  it('has the socket methods the HTTP client and its Agent call', () => {
    const { socket } = make();
    expect(socket.setKeepAlive()).toBe(socket);
    expect(socket.setNoDelay()).toBe(socket);
    expect(socket.ref()).toBe(socket);
    expect(socket.unref()).toBe(socket);
    socket.destroy();
  });
});
