import { describe, expect, it } from 'vitest';
import { PidPreamble, withPidPreamble } from '../../src/infra/ssh/pid-preamble.js';
import { ChannelLimiter } from '../../src/infra/ssh/channel-limiter.js';
import { shellQuote, withCwd } from '../../src/infra/shell-quote.js';

function run(chunks: string[]): { pid: number | undefined; out: string } {
  const p = new PidPreamble();
  let out = '';
  for (const c of chunks) out += p.feed(Buffer.from(c)).toString();
  out += p.flush().toString();
  return { pid: p.pid, out };
}

describe('PidPreamble', () => {
  it('strips our first line and keeps the rest, however the chunks are split', () => {
    const full = '__ght_pid__=12345\nhello\nworld\n';
    for (let i = 0; i <= full.length; i++) {
      expect(run([full.slice(0, i), full.slice(i)])).toEqual({ pid: 12345, out: 'hello\nworld\n' });
    }
    expect(run(full.split(''))).toEqual({ pid: 12345, out: 'hello\nworld\n' });
  });

  it('passes output through untouched when the first line is not ours', () => {
    expect(run(['hello\n'])).toEqual({ pid: undefined, out: 'hello\n' });
    expect(run(['__ght_pid__=12x\nrest'])).toEqual({ pid: undefined, out: '__ght_pid__=12x\nrest' });
    expect(run(['__ght'])).toEqual({ pid: undefined, out: '__ght' });
    expect(run(['__ght_pid__=' + '1'.repeat(40)])).toEqual({ pid: undefined, out: '__ght_pid__=' + '1'.repeat(40) });
    expect(run([])).toEqual({ pid: undefined, out: '' });
  });

  it('builds a command whose first output line is the shell pid', () => {
    expect(withPidPreamble('ls')).toBe(`printf '__ght_pid__=%s\\n' "$$"\nls`);
  });
});

describe('shell quoting', () => {
  it('single-quotes, escaping embedded quotes', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(withCwd('ls', undefined)).toBe('ls');
    expect(withCwd('ls', '/a b')).toBe(`cd -- '/a b' || exit 1\nls`);
  });
});

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
