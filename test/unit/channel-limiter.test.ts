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

  it('a lowered capacity holds the queue until enough are released; a raised one lets waiters in at once, in order', async () => {
    const lim = new ChannelLimiter(3);
    const held = await Promise.all([lim.acquire(), lim.acquire(), lim.acquire()]);
    const order: string[] = [];
    const a = lim.acquire().then((r) => (order.push('a'), r));
    const b = lim.acquire().then((r) => (order.push('b'), r));
    lim.setCapacity(1);
    expect(lim.capacity).toBe(1);
    // Nobody loses a slot they hold; releases shrink the count until it fits the new capacity.
    expect(lim.inUse).toBe(3);
    held[0]!();
    held[1]!();
    await Promise.resolve();
    expect(lim.inUse).toBe(1);
    expect(order).toEqual([]);
    held[2]!();
    const ra = await a;
    expect(order).toEqual(['a']);
    expect(lim.inUse).toBe(1);
    expect(lim.waiting).toBe(1);
    lim.setCapacity(4);
    const rb = await b;
    expect(order).toEqual(['a', 'b']);
    expect(lim.inUse).toBe(2);
    // A newcomer gets in straight away while there is room.
    const rc = await lim.acquire();
    expect(lim.inUse).toBe(3);
    ra();
    rb();
    rc();
    expect(lim.inUse).toBe(0);
    expect(() => lim.setCapacity(0)).toThrow(RangeError);
    expect(() => lim.setCapacity(1.5)).toThrow(RangeError);
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
