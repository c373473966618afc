/**
 * shell-quote.ts against a real /bin/sh: any string quoted by shellQuote or shellDoubleQuote comes back
 * unchanged from `printf`, also nested inside a single-quoted `sh -c` script the way the gpu and hosts
 * modules send them; withCwd runs in the directory or not at all. NUL is left out of the strings: no
 * argument or script can hold it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellDoubleQuote, shellQuote, withCwd } from '../../src/infra/shell-quote.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shell-quote-'));
  // Files an unquoted glob or a word split would pick up, so a quoting mistake changes the output.
  for (const name of ['a', 'b c', '-n']) writeFileSync(join(dir, name), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(script: string): { stdout: string; status: number | null } {
  const r = spawnSync('/bin/sh', ['-c', script], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, LC_ALL: 'C' } });
  return { stdout: r.stdout.toString('utf8'), status: r.status };
}

/** Each word printed by one sh run, NUL-separated (the one byte no word can hold). */
function printed(quotedWords: string[], wrap: (script: string) => string = (s) => s) {
  const r = sh(wrap(`printf '%s\\0' ${quotedWords.join(' ')}`));
  expect(r.status).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

/** Characters and words a shell treats specially, one by one. */
const SPECIAL = [...`'"$\`\\!*?[]{}~#&;|<>()\n\t %-=`, '$(', '${HOME}', '$((1+1))', "'\\''"];
/** Strings rich in what shells treat specially, plus any Unicode, without NUL. */
const hostileString = fc
  .array(fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 12 })
  .map((parts) => parts.join('').replace(/\0/g, ''));
const words = fc.array(hostileString, { minLength: 1, maxLength: 20 });

describe.each([
  ['shellQuote', shellQuote],
  ['shellDoubleQuote', shellDoubleQuote],
])('%s', (_name, quote) => {
  it('gives back any string through sh -c printf', () => {
    fc.assert(
      fc.property(words, (ws) => {
        expect(printed(ws.map(quote))).toEqual(ws);
      }),
      { numRuns: 60 },
    );
  });

  it('the edge cases, written out', () => {
    const cases = ['', "'", "''", "it's", '"', '\\', '\\"', '$HOME', '`id`', '*', '-n', 'a\nb', 'é ü 日本 😀'];
    expect(printed(cases.map(quote))).toEqual(cases);
  });
});

describe('the quotes nested as the gpu and hosts modules send them', () => {
  it('shellDoubleQuote inside a script that is itself shellQuote-d for an outer sh -c', () => {
    fc.assert(
      fc.property(words, (ws) => {
        expect(printed(ws.map(shellDoubleQuote), (script) => `sh -c ${shellQuote(script)}`)).toEqual(ws);
      }),
      { numRuns: 30 },
    );
  });

  it('the forms, written out', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(shellDoubleQuote('a$b`c"d\\e')).toBe('"a\\$b\\`c\\"d\\\\e"');
  });
});

describe('withCwd', () => {
  it('runs the command in the directory, whatever its name', () => {
    const odd = join(dir, "it's a $dir `x`");
    mkdirSync(odd);
    expect(sh(withCwd('pwd', odd)).stdout).toBe(`${odd}\n`);
    expect(withCwd('ls', '/a b')).toBe(`cd -- '/a b' || exit 1\nls`);
  });

  it('a directory that cannot be entered runs nothing of a command list, exit 1', () => {
    const r = sh(withCwd('echo first; echo second', join(dir, 'missing')));
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  it('no directory leaves the command as it is', () => {
    expect(withCwd('ls', undefined)).toBe('ls');
    expect(withCwd('ls', '')).toBe('ls');
  });
});
