import { describe, expect, it } from 'vitest';
import { ChannelLimiter } from '../../src/infra/ssh/channel-limiter.js';

describe('ChannelLimiter', () => {
  it('never lets more than capacity run, serves in order, and drops aborted waiters', async () => {
    const lim = new ChannelLimiter(2);
    const r1 = await lim.acquire();
    const r2 = await lim.acquire();
    const order: number[] = [];
    const p3 = lim.acquire().then((r) => (order.push(3), r));
    const ac = new AbortController();
    const p4 = lim.acquire(ac.signal);
    const p5 = lim.acquire().then((r) => (order.push(5), r));
    expect(lim.inUse).toBe(2);
    expect(lim.waiting).toBe(3);
    ac.abort(new Error('gave up'));
    await expect(p4).rejects.toThrow('gave up');
    expect(lim.waiting).toBe(2);
    r1();
    r1(); // a second release of the same slot must not free another
    const r3 = await p3;
    expect(lim.inUse).toBe(2);
    r2();
    const r5 = await p5;
    expect(order).toEqual([3, 5]);
    r3();
    r5();
    expect(lim.inUse).toBe(0);
  });
});

describe('ChannelLimiter edges', () => {
  it('rejectAll fails every queued caller with the given error and leaves holders alone', async () => {
    const lim = new ChannelLimiter(1);
    const held = await lim.acquire();
    const queued = [lim.acquire(), lim.acquire()];
    const closed = new Error('closed');
    lim.rejectAll(closed);
    for (const q of queued) await expect(q).rejects.toBe(closed);
    expect(lim.waiting).toBe(0);
    expect(lim.inUse).toBe(1);
    held();
    expect(lim.inUse).toBe(0);
  });

  it('an already-aborted signal is refused at once, even with a free slot', async () => {
    const lim = new ChannelLimiter(1);
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(lim.acquire(ac.signal)).rejects.toThrow('gone');
    expect(lim.inUse).toBe(0);
  });

  it('refuses a capacity that is not a whole number >= 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new ChannelLimiter(bad)).toThrow(RangeError);
  });
});
