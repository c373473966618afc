import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { splitLines, unifiedDiff } from '../../src/modules/files/unified-diff.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ght-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** GNU diff's answer for the same texts, with the same header names. */
function gnuDiff(a: string, b: string): string {
  writeFileSync(path.join(tmp, 'a'), a);
  writeFileSync(path.join(tmp, 'b'), b);
  const r = spawnSync('diff', ['-u', '--label', 'a', '--label', 'b', path.join(tmp, 'a'), path.join(tmp, 'b')], { encoding: 'utf8' });
  return r.stdout;
}

/** Applies a unified diff with GNU patch and returns the result. */
function gnuPatch(a: string, diff: string): string {
  const file = path.join(tmp, 'target');
  writeFileSync(file, a);
  writeFileSync(path.join(tmp, 'p.diff'), diff);
  execFileSync('patch', ['--quiet', '--force', file, path.join(tmp, 'p.diff')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(file, 'utf8');
}

/** A small, strict applier: every context and removed line must match exactly where the header says. */
function applyDiff(a: string, diff: string): string {
  const old = splitLines(a);
  const out: string[] = [];
  const lines = diff.split('\n');
  expect(lines[0]).toMatch(/^--- /);
  expect(lines[1]).toMatch(/^\+\+\+ /);
  let pos = 0; // next old line (0-based) not yet copied
  let i = 2;
  while (i < lines.length && lines[i] !== '') {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]);
    expect(m, `hunk header at line ${i}: ${lines[i]}`).not.toBeNull();
    const oldStart = Number(m![1]);
    const oldCount = m![2] === undefined ? 1 : Number(m![2]);
    const from = oldCount === 0 ? oldStart : oldStart - 1;
    while (pos < from) out.push(old[pos++]);
    i++;
    let seenOld = 0;
    while (i < lines.length && /^[ +-]/.test(lines[i])) {
      const kind = lines[i][0];
      let text = lines[i].slice(1) + '\n';
      if (lines[i + 1] === '\\ No newline at end of file') {
        text = text.slice(0, -1);
        i++;
      }
      if (kind !== '+') {
        expect(old[pos]).toBe(text);
        pos++;
        seenOld++;
      }
      if (kind !== '-') out.push(text);
      i++;
    }
    expect(seenOld).toBe(oldCount);
  }
  while (pos < old.length) out.push(old[pos++]);
  return out.join('');
}

/** Length of the longest common subsequence of two line arrays (O(NM), for small inputs only). */
function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
  return dp[a.length][b.length];
}

const changedLines = (diff: string) =>
  diff
    .split('\n')
    .slice(2)
    .filter((l) => /^[+-]/.test(l)).length;

const numbered = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${i + from}\n`).join('');

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('');
    expect(unifiedDiff('', '')).toBe('');
  });

  it.each([
    ['one line changed in the middle', numbered(20), numbered(20).replace('line 10\n', 'line ten\n')],
    ['a line added at the end', numbered(5), numbered(6)],
    ['a line removed at the start', numbered(8), numbered(7, 2)],
    ['the final newline removed', numbered(5), numbered(5).slice(0, -1)],
    ['a final newline added', numbered(5).slice(0, -1), numbered(5)],
    ['a last line without newline changed', 'a\nb\nc', 'a\nb\nC'],
    ['two changes close together share a hunk', numbered(30), numbered(30).replace('line 10\n', 'X\n').replace('line 15\n', 'Y\n')],
    ['two changes far apart make two hunks', numbered(40), numbered(40).replace('line 5\n', 'X\n').replace('line 30\n', 'Y\n')],
    ['changes exactly 6 lines apart merge', numbered(30), numbered(30).replace('line 10\n', 'X\n').replace('line 17\n', 'Y\n')],
    ['changes 7 lines apart do not merge', numbered(30), numbered(30).replace('line 10\n', 'X\n').replace('line 18\n', 'Y\n')],
    ['an empty file filled', '', 'hello\nworld\n'],
    ['a file emptied', 'hello\nworld\n', ''],
    [
      'a Modelfile parameter',
      'FROM gemma:2b\nPARAMETER temperature 0.8\nSYSTEM """You are helpful."""\n',
      'FROM gemma:2b\nPARAMETER temperature 0.6\nSYSTEM """You are helpful."""\n',
    ],
  ])('matches GNU diff -u for %s', (_name, a, b) => {
    expect(unifiedDiff(a, b)).toBe(gnuDiff(a, b));
  });

  it('uses the given names in the header', () => {
    const d = unifiedDiff('a\n', 'b\n', { oldName: '/home/ccpm/Modelfile', newName: '/home/ccpm/Modelfile' });
    expect(d.split('\n').slice(0, 3)).toEqual(['--- /home/ccpm/Modelfile', '+++ /home/ccpm/Modelfile', '@@ -1 +1 @@']);
  });

  it('keeps carriage returns of CRLF files in the lines', () => {
    const d = unifiedDiff('a\r\nb\r\n', 'a\r\nc\r\n');
    expect(d).toContain('-b\r\n+c\r\n');
    expect(applyDiff('a\r\nb\r\n', d)).toBe('a\r\nc\r\n');
  });

  const text = fc
    .array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 })
    .chain((lines) => fc.boolean().map((finalNewline) => (lines.length ? lines.join('\n') + (finalNewline ? '\n' : '') : '')));

  it('produces a minimal diff that turns the old text into the new one', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = unifiedDiff(a, b);
        if (a === b) return d === '';
        expect(applyDiff(a, d)).toBe(b);
        const la = splitLines(a);
        const lb = splitLines(b);
        expect(changedLines(d)).toBe(la.length + lb.length - 2 * lcs(la, lb));
        return true;
      }),
      { numRuns: 1000 },
    );
  });

  it('is applied by GNU patch', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        fc.pre(a !== b);
        expect(gnuPatch(a, unifiedDiff(a, b))).toBe(b);
      }),
      { numRuns: 60 },
    );
  });

  it('falls back to one block when the texts differ in more lines than the search allows, still correctly', () => {
    const a = Array.from({ length: 300 }, (_, i) => `old ${i}\n`).join('');
    const b = Array.from({ length: 300 }, (_, i) => (i % 2 ? `old ${i}\n` : `new ${i}\n`)).join('');
    const d = unifiedDiff(a, b, { maxEditDistance: 10 });
    expect(applyDiff(a, d)).toBe(b);
    expect(gnuPatch(a, d)).toBe(b);
    // Minimal would be 150 removals + 150 additions; the fallback replaces the whole changed middle.
    expect(changedLines(d)).toBe(299 + 299);
    expect(changedLines(unifiedDiff(a, b))).toBe(300);
  });

  it('diffs a 200 000-line file with one change into one hunk', () => {
    const a = numbered(200_000);
    const b = a.replace('line 100000\n', 'changed\n');
    const d = unifiedDiff(a, b);
    expect(d.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -99997,7 +99997,7 @@']);
  });
});
