/**
 * abortable() from src/infra/ssh/ssh-channels.ts: how exec gives up on a connection or a channel open
 * that is still pending when the call's deadline or the caller's abort comes. The channel opens
 * themselves run against a real sshd (ssh-transport.test.ts, ollama-tunnel.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { abortable } from '../../src/infra/ssh/ssh-channels.js';

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
