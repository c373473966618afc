/**
 * bench/table.mjs: the table the bench prints and writes into the README between its markers, checked on
 * fixed rows against a temp copy of the README (the real one is never written); and the bench's shape:
 * what its files import and how long its scenarios are, without running it.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { TABLE_END, TABLE_START, formatTable, latestRunLine, withTable, writeReadmeTable } from '../../bench/table.mjs';
// @ts-expect-error plain ESM script without type declarations
import { ratioRow, row } from '../../bench/lib/rows.mjs';

const rows = [
  { section: 'gpu', ...row('gpu_status HTTP p50 vs /healthz', '2.6 ms', '/healthz 1.6 ms', 1.625, '≤ 1.5×', false) },
  { section: 'gpu', ...row('gpu_status sample age (max over the run)', '1008 ms', 'p50 500 ms', null, '≤ 2000 ms', true) },
  { section: 'exec', ...row("exec 'true': raw warm default socket p50", '5.6 ms', 'raw warm no-delay 5.3 ms', 1.0566, '— (info)', null) },
];

const results = (over: Record<string, unknown> = {}) => ({
  date: '2026-12-24T10:11:12.000Z',
  machine: {
    os: 'Debian GNU/Linux 12 (bookworm) (Linux 6.1.0-28-cloud-amd64 x64)',
    cpu_model: 'AMD EPYC 7B13',
    cores: 2,
    node: 'v20.20.2',
    openssh: 'OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026',
    ssh2: '1.17.0',
  },
  load: { loadavg_start: [2.54, 1.2, 1.1], loadavg_end: [2.06, 1.9, 1.2] },
  config: { scale: 1 },
  notes: [],
  rows,
  ...over,
});

/** The lines of `text` between the markers (the markers excluded). */
function region(text: string): string[] {
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return text.slice(start + TABLE_START.length, end).split('\n');
}

describe('the bench table', () => {
  it('pads every column to its widest cell, in the order metric, measured, baseline, ratio, target, met', () => {
    const lines = formatTable(rows);
    expect(lines).toHaveLength(2 + rows.length);
    expect(new Set(lines.map((l: string) => l.length)).size).toBe(1);
    expect(lines[0].split('|').map((c: string) => c.trim())).toEqual(['', 'metric', 'measured', 'baseline', 'ratio', 'target', 'met', '']);
    expect(lines[1]).toMatch(/^\|-+\|-+\|-+\|-+\|-+\|-+\|$/);
    const cells = lines.slice(2).map((l: string) => l.split('|').map((c) => c.trim()));
    expect(cells.map((c: string[]) => c[1])).toEqual(rows.map((r) => r.metric));
    // The ratio is rounded to two places; met is yes, NO, or empty for a row without a target.
    expect(cells.map((c: string[]) => [c[4], c[6]])).toEqual([
      ['1.63×', 'NO'],
      ['', 'yes'],
      ['1.06×', ''],
    ]);
  });

  it('builds a latency-against-baseline row: both in ms, the ratio, met against the largest ratio allowed', () => {
    expect(ratioRow('m', 2.6, '/healthz', 1.6, '≤ 1.5×', 1.5)).toEqual({
      metric: 'm',
      measured: '2.6 ms',
      baseline: '/healthz 1.6 ms',
      ratio: '1.63×',
      target: '≤ 1.5×',
      met: 'NO',
    });
    expect(ratioRow('m', 3, 'b', 2, '≤ 1.5×', 1.5).met).toBe('yes'); // exactly at the bound counts as met
    expect(ratioRow('m', 1, 'b', 2, '— (info)').met).toBe('');
  });

  it('names the run: date, system, cores, load range, Node, OpenSSH, ssh2; and the scale when it is not 1', () => {
    expect(latestRunLine(results())).toBe(
      'Latest run: 2026-12-24, Debian GNU/Linux 12 (bookworm) on 2 AMD EPYC 7B13 cores (load average 2.1–2.5 at start and end), ' +
        'Node 20.20.2, OpenSSH 9.2p1, ssh2 1.17.0.',
    );
    const quick = latestRunLine(
      results({
        config: { scale: 0.3 },
        load: { loadavg_start: [1.04, 0, 0], loadavg_end: [0.96, 0, 0] },
        machine: { ...results().machine, openssh: null },
      }),
    );
    expect(quick).toContain('load average 1.0 at start and end');
    expect(quick).toContain('OpenSSH unknown');
    expect(quick.endsWith(', BENCH_SCALE 0.3.')).toBe(true);
  });

  it('refuses a README without exactly one pair of markers in order', () => {
    expect(() => withTable('# no markers\n', results())).toThrow(/exactly one/);
    expect(() => withTable(`${TABLE_END}\n${TABLE_START}\n`, results())).toThrow(/exactly one/);
    expect(() => withTable(`${TABLE_START}\n${TABLE_END}\n${TABLE_START}\n${TABLE_END}\n`, results())).toThrow(/exactly one/);
    expect(() => withTable(`${TABLE_START}\n${TABLE_START}\n${TABLE_END}\n`, results())).toThrow(/exactly one/);
  });
});

describe('writing the table into a copy of the README', () => {
  let dir: string;
  let readme: string;
  let original: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ght-bench-table-'));
    readme = path.join(dir, 'README.md');
    copyFileSync('README.md', readme);
    original = readFileSync(readme, 'utf8');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces only what lies between the markers with the run line and the rows', () => {
    expect(writeReadmeTable(readme, results(), { partial: false })).toMatch(/table written/);
    const written = readFileSync(readme, 'utf8');
    const before = (t: string) => t.slice(0, t.indexOf(TABLE_START) + TABLE_START.length);
    const after = (t: string) => t.slice(t.indexOf(TABLE_END));
    expect(before(written)).toBe(before(original));
    expect(after(written)).toBe(after(original));
    expect(region(written)).toEqual(['', '', latestRunLine(results()), '', ...formatTable(rows), '', '']);
    // The rows of the table that was there before are all gone.
    expect(written).not.toContain('gpu_history: 24 h for 8 GPUs');
    // Twice with the same run: the same file.
    writeReadmeTable(readme, results(), { partial: false });
    expect(readFileSync(readme, 'utf8')).toBe(written);
  });

  it('leaves the README byte for byte as it was after a partial run, and says so', () => {
    const said = writeReadmeTable(readme, results({ rows: rows.slice(2) }), { partial: true });
    expect(said).toMatch(/left as it is: a partial run/);
    expect(readFileSync(readme, 'utf8')).toBe(original);
  });

  it('writes nothing when the markers are missing', () => {
    const without = original.replace(TABLE_START, '');
    writeFileSync(readme, without);
    expect(() => writeReadmeTable(readme, results(), { partial: false })).toThrow(/exactly one/);
    expect(readFileSync(readme, 'utf8')).toBe(without);
  });
});

describe('the README as committed', () => {
  it('has one marked table whose rows are in the writer’s format', () => {
    const lines = region(readFileSync('README.md', 'utf8')).filter((l) => l.startsWith('|'));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines[0].split('|').map((c) => c.trim())).toEqual(['', 'metric', 'measured', 'baseline', 'ratio', 'target', 'met', '']);
    for (const l of lines.slice(2)) expect(['yes', 'NO', '']).toContain(l.split('|').at(-2)!.trim());
  });
});

describe('the bench’s files', () => {
  const benchFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? benchFiles(path.join(dir, e.name)) : e.name.endsWith('.mjs') ? [path.join(dir, e.name)] : [],
    );

  it('import only node builtins, packages, each other, the test helpers and src/, never the build output', () => {
    const bad: string[] = [];
    for (const file of benchFiles('bench')) {
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)) {
        const target = spec.startsWith('.') ? path.relative('.', path.resolve(path.dirname(file), spec)) : null;
        const fine = target === null ? !spec.includes('dist') : /^(bench|test\/support|src)\//.test(target);
        if (!fine) bad.push(`${file}: ${spec}`);
      }
      if (/pathToFileURL\(path\.join\(DIST/.test(text)) bad.push(`${file}: a module loaded from the build output`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps each scenario under 250 lines and each in the runner’s list once', () => {
    const scenarios = readdirSync('bench/scenarios').filter((f) => f !== 'index.mjs');
    expect(scenarios.sort()).toEqual(['big.mjs', 'concurrency.mjs', 'exec.mjs', 'files.mjs', 'gpu.mjs', 'ollama.mjs', 'startup.mjs']);
    for (const f of scenarios) expect(readFileSync(path.join('bench/scenarios', f), 'utf8').split('\n').length, f).toBeLessThan(250);
    const index = readFileSync('bench/scenarios/index.mjs', 'utf8');
    const listed = /SCENARIOS = \[([^\]]+)\]/
      .exec(index)![1]
      .split(',')
      .map((s) => s.trim());
    expect([...listed].sort()).toEqual(scenarios.map((f) => f.replace('.mjs', '')).sort());
  });
});
