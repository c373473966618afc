import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, withCwd } from '../../src/infra/shell-quote.js';

describe('shellQuote and withCwd', () => {
  it('single-quotes, escaping embedded quotes', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(withCwd('ls', undefined)).toBe('ls');
    expect(withCwd('ls', '/a b')).toBe(`cd -- '/a b' || exit 1\nls`);
  });

  it('a real sh reads back exactly the word it was given, whatever a hostile caller puts in it', () => {
    const hostile = ['', ' ', `'`, `''\\''`, '$(touch /nonexistent/ght)', '`id`', '$HOME', 'a\nb', '-n', '*', '"; exit 1; "', 'é€\t'];
    for (const word of hostile) {
      expect(execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(word)}`], { encoding: 'utf8' })).toBe(word);
    }
  });
});
