/**
 * framed-sections.ts: scripts built from named parts, run by a real /bin/sh, and parsed back; then hostile
 * and broken output: marker text inside a part's output, missing end lines, interleaved stderr, CRLF.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  frameBeginLine,
  frameEndLine,
  framedPart,
  framedScript,
  parseFramedSections,
  withoutFrameLines,
  type FramedPart,
} from '../../src/infra/framed-sections.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'framed-sections-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the framed script of `parts` with /bin/sh in the temp dir. */
function run(parts: readonly FramedPart[]) {
  const r = spawnSync('/bin/sh', ['-c', framedScript(parts)], { cwd: dir, encoding: 'utf8' });
  return {
    stdout: r.stdout,
    stderr: r.stderr,
    sections: parseFramedSections(
      parts.map((p) => p.name),
      r.stdout,
      r.stderr,
    ),
  };
}

describe('framed scripts run by /bin/sh', () => {
  it('gives each part its output and exit status, with or without a last newline, and empty output', () => {
    const { sections } = run([
      { name: 'one', command: 'printf "a\\nb\\n"' },
      { name: 'two', command: 'printf "no newline"; exit_with() { return "$1"; }; exit_with 3' },
      { name: 'three', command: 'true' },
    ]);
    expect(sections.get('one')).toEqual({ stdout: 'a\nb\n', stderr: '', exitCode: 0 });
    expect(sections.get('two')).toEqual({ stdout: 'no newline', stderr: '', exitCode: 3 });
    expect(sections.get('three')).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  });

  it("'merged' folds the part's stderr into its section, in order", () => {
    const { sections, stderr } = run([{ name: 'df', command: 'echo out; echo complaint >&2; echo more; false' }]);
    expect(sections.get('df')).toEqual({ stdout: 'out\ncomplaint\nmore\n', stderr: '', exitCode: 1 });
    expect(stderr).toBe('');
  });

  it("'framed' keeps stderr apart, framed per part, and leaves the exit status in $r", () => {
    const { sections } = run([
      { name: 'gpu', command: 'echo rows; echo "gpu warning" >&2; (exit 9)', stderr: 'framed' },
      { name: 'branch', command: 'echo "r was $r"', stderr: 'framed' },
      { name: 'apps', command: 'echo "apps error" >&2; (exit 2)', stderr: 'framed' },
    ]);
    expect(sections.get('gpu')).toEqual({ stdout: 'rows\n', stderr: 'gpu warning\n', exitCode: 9 });
    expect(sections.get('branch')).toEqual({ stdout: 'r was 9\n', stderr: '', exitCode: 0 });
    expect(sections.get('apps')).toEqual({ stdout: '', stderr: 'apps error\n', exitCode: 2 });
  });

  it('a part the script skips (not reached) has no section', () => {
    const gpu = framedPart({ name: 'gpu', command: '(exit 1)', stderr: 'framed' });
    const apps = framedPart({ name: 'apps', command: 'echo never', stderr: 'framed' });
    const r = spawnSync('/bin/sh', ['-c', `${gpu}; if [ "$r" -eq 0 ]; then ${apps}; fi`], { cwd: dir, encoding: 'utf8' });
    const sections = parseFramedSections(['gpu', 'apps'], r.stdout, r.stderr);
    expect(sections.get('gpu')?.exitCode).toBe(1);
    expect(sections.has('apps')).toBe(false);
  });

  it('a part killed midway (the shell dies) is cut off: exit status null, its output kept', () => {
    const { sections } = run([
      { name: 'one', command: 'echo fine' },
      { name: 'two', command: 'echo partial; kill -9 $$' },
      { name: 'three', command: 'echo never' },
    ]);
    expect(sections.get('one')?.exitCode).toBe(0);
    expect(sections.get('two')).toEqual({ stdout: 'partial\n', stderr: '', exitCode: null });
    expect(sections.has('three')).toBe(false);
  });

  it('output that prints marker text, even whole marker lines, stays in its section', () => {
    const fakeEnd = frameEndLine('one', 7);
    const fakeBegin = frameBeginLine('two');
    const { sections } = run([
      { name: 'one', command: `echo "name ${fakeEnd} inline"; echo "${fakeBegin}"; echo "${frameEndLine('one', 12345)}"` },
      { name: 'two', command: `echo "${frameBeginLine('one')}"; echo real two` },
    ]);
    expect(sections.get('one')).toEqual({
      stdout: `name ${fakeEnd} inline\n${fakeBegin}\n${frameEndLine('one', 12345)}\n`,
      stderr: '',
      exitCode: 0,
    });
    expect(sections.get('two')).toEqual({ stdout: `${frameBeginLine('one')}\nreal two\n`, stderr: '', exitCode: 0 });
  });

  it('refuses part names that are not lowercase letters (they go into the script unquoted)', () => {
    for (const name of ['', 'a b', 'x;rm', 'Upper', "q'", 'dash-name'])
      expect(() => framedPart({ name, command: 'true' })).toThrow(/lowercase/);
  });
});

describe('parseFramedSections on broken output', () => {
  const names = ['one', 'two'];

  it('a whole end line of its own part does end the section (fixed markers: documented limit)', () => {
    const out = `${frameBeginLine('one')}\nx\n${frameEndLine('one', 4)}\ny\n\n${frameEndLine('one', 0)}\n`;
    expect(parseFramedSections(names, out).get('one')).toEqual({ stdout: 'x', stderr: '', exitCode: 4 });
  });

  it('an end line right after the begin line is not one the script printed (it prints a newline first)', () => {
    const out = `${frameBeginLine('one')}\n${frameEndLine('one', 1)}\nrow\n\n${frameEndLine('one', 0)}\n`;
    expect(parseFramedSections(names, out).get('one')).toEqual({ stdout: `${frameEndLine('one', 1)}\nrow\n`, stderr: '', exitCode: 0 });
  });

  it('exit statuses longer than three digits, or not digits, are not end lines', () => {
    for (const status of ['1234', '-1', '1a', '']) {
      const out = `${frameBeginLine('one')}\nx\n${frameEndLine('one', status)}\n`;
      expect(parseFramedSections(names, out).get('one')?.exitCode).toBeNull();
    }
  });

  it('a missing end line: the section runs to the next part, or to the end of the output', () => {
    const out = `${frameBeginLine('one')}\ncut here\n${frameBeginLine('two')}\nok\n\n${frameEndLine('two', 0)}\n`;
    const sections = parseFramedSections(names, out);
    expect(sections.get('one')).toEqual({ stdout: 'cut here\n', stderr: '', exitCode: null });
    expect(sections.get('two')).toEqual({ stdout: 'ok\n', stderr: '', exitCode: 0 });
    expect(parseFramedSections(names, `${frameBeginLine('two')}\nhalf a li`).get('two')).toEqual({
      stdout: 'half a li',
      stderr: '',
      exitCode: null,
    });
  });

  it('a begin line printed again later does not replace the section found first', () => {
    const out = `${frameBeginLine('one')}\nreal\n\n${frameEndLine('one', 0)}\n${frameBeginLine('two')}\n${frameBeginLine('one')}\nfake\n\n${frameEndLine('two', 0)}\n`;
    const sections = parseFramedSections(names, out);
    expect(sections.get('one')?.stdout).toBe('real\n');
    expect(sections.get('two')?.stdout).toBe(`${frameBeginLine('one')}\nfake\n`);
  });

  it('stderr is split on its own begin lines, whatever stdout holds (the two streams arrive apart)', () => {
    const stdout = `${frameBeginLine('one')}\n\n${frameEndLine('one', 1)}\n${frameBeginLine('two')}\n\n${frameEndLine('two', 0)}\n`;
    const stderr = `login banner\n${frameBeginLine('one')}\nfirst\n${frameBeginLine('two')}\nsecond\nmore`;
    const sections = parseFramedSections(names, stdout, stderr);
    expect(sections.get('one')?.stderr).toBe('first\n');
    expect(sections.get('two')?.stderr).toBe('second\nmore');
  });

  it('CRLF line ends give the same sections as LF', () => {
    const lf = `${frameBeginLine('one')}\na\nb\n\n${frameEndLine('one', 0)}\n${frameBeginLine('two')}\n\n${frameEndLine('two', 2)}\n`;
    const crlf = lf.replace(/\n/g, '\r\n');
    const sections = parseFramedSections(names, crlf);
    expect(sections.get('one')).toEqual({ stdout: 'a\r\nb\r\n', stderr: '', exitCode: 0 });
    expect(sections.get('two')).toEqual({ stdout: '', stderr: '', exitCode: 2 });
  });

  it('no markers at all, or marker-like noise: no sections', () => {
    expect(parseFramedSections(names, 'fish: Unknown command: sh\n').size).toBe(0);
    expect(parseFramedSections(names, `x${frameBeginLine('one')}\n${frameBeginLine('one')}y\n`).size).toBe(0);
  });
});

describe('withoutFrameLines', () => {
  it('drops marker lines and keeps everything else', () => {
    expect(withoutFrameLines(`${frameBeginLine('one')}\nwords\r\n${frameEndLine('one', 0)}\n  @@gpu-host-tools indented`)).toBe(
      'words\n  @@gpu-host-tools indented',
    );
  });
});
