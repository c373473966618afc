import { describe, expect, it } from 'vitest';
import { PidPreamble, withPidPreamble } from '../../src/infra/ssh/pid-preamble.js';
import { ChannelLimiter } from '../../src/infra/ssh/channel-limiter.js';

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
