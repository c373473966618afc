import { describe, expect, it } from 'vitest';
import { PidPreamble, withPidPreamble } from '../../src/infra/ssh/pid-preamble.js';

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
