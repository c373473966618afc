/**
 * abortable() from src/infra/ssh/ssh-channels.ts: how exec gives up on a connection or a channel open
 * that is still pending when the call's deadline or the caller's abort comes; and openSftp's deadline.
 * The channel opens themselves run against a real sshd (ssh-transport.test.ts, ollama-tunnel.test.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { abortable, openSftp } from '../../src/infra/ssh/ssh-channels.js';
import type { SshConnection } from '../../src/infra/ssh/ssh-connection.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('abortable', () => {
  it('passes the value or the error through when the signal never fires', async () => {
    const ac = new AbortController();
    await expect(abortable(Promise.resolve(7), ac.signal)).resolves.toBe(7);
    const boom = new Error('refused');
    await expect(abortable(Promise.reject(boom), ac.signal)).rejects.toBe(boom);
  });

  it('rejects with the reason at the abort and hands the late promise to onLate to clean up', async () => {
    const ac = new AbortController();
    const open = deferred<string>();
    const cleaned: string[] = [];
    const raced = abortable(open.promise, ac.signal, (late) => void late.then((ch) => cleaned.push(ch)));
    const reason = new Error('deadline');
    ac.abort(reason);
    await expect(raced).rejects.toBe(reason);
    // What opens after we gave up is handed over, not leaked.
    open.resolve('channel-1');
    await open.promise;
    await Promise.resolve();
    expect(cleaned).toEqual(['channel-1']);
  });

  it('an already-aborted signal rejects at once, still hands over the promise, and a late failure is not unhandled', async () => {
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    const open = deferred<string>();
    let handedOver: Promise<string> | undefined;
    await expect(abortable(open.promise, ac.signal, (late) => (handedOver = late))).rejects.toThrow('gone');
    expect(handedOver).toBe(open.promise);
    // Rejecting later must not surface as an unhandled rejection (vitest fails the run on one).
    open.reject(new Error('late failure'));
    await new Promise((r) => setTimeout(r, 10));
  });

  it('stops listening to the signal once settled, so one long-lived signal does not collect listeners', async () => {
    const ac = new AbortController();
    let added = 0;
    let removed = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...args: Parameters<typeof add>) => (added++, add(...args))) as typeof add;
    ac.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
    for (let i = 0; i < 5; i++) await abortable(Promise.resolve(i), ac.signal);
    await abortable(Promise.reject(new Error('x')), ac.signal).catch(() => {});
    expect(added).toBe(6);
    expect(removed).toBe(6);
  });
});

describe('openSftp', () => {
  const target = { address: 'u@gpu:22', host: 'gpu', port: 22, username: 'u' };

  /** A connection whose ssh2 client holds the SFTP open until the test answers it. */
  function connectionWithPendingSftp() {
    let answer: ((err: Error | undefined, sftp: unknown) => void) | undefined;
    const conn = {
      sftp: undefined,
      awaitReply: () => () => {},
      client: { sftp: (cb: typeof answer) => (answer = cb) },
    } as unknown as SshConnection;
    return { conn, answer: (err: Error | undefined, sftp: unknown) => answer!(err, sftp) };
  }

  it('closes a session that opens after its deadline, and the next call opens a new one', async () => {
    vi.useFakeTimers();
    try {
      const { conn, answer } = connectionWithPendingSftp();
      const first = openSftp(conn, target, 1000);
      const failed = expect(first).rejects.toMatchObject({ status: 503, code: 'HOST_UNREACHABLE' });
      await vi.advanceTimersByTimeAsync(1000);
      await failed;
      expect(conn.sftp).toBeUndefined();
      const late = { end: vi.fn(), on: vi.fn() };
      answer(undefined, late);
      expect(late.end).toHaveBeenCalledTimes(1);
      expect(conn.sftp).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a session that opens in time', async () => {
    const { conn, answer } = connectionWithPendingSftp();
    const opening = openSftp(conn, target, 1000);
    const session = { end: vi.fn(), on: vi.fn() };
    answer(undefined, session);
    await expect(opening).resolves.toBe(session);
    expect(session.end).not.toHaveBeenCalled();
    expect(openSftp(conn, target, 1000)).toBe(opening);
  });
});
