/**
 * The warm shell's framing: the marker found wherever chunk boundaries fall, output that merely
 * resembles it passed through, the status line, and the command line run by a real /bin/sh on
 * commands built to break quoting.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pgrep } from '../support/processes.js';
import { waitFor } from '../support/waiting.js';
import { commandLine, KILL_SIGNAL, MarkerScanner, markerSource, parseEnd, WARM_SHELL_INIT } from '../../src/infra/ssh/warm-shell-frames.js';

/** Feeds `stream` cut at `cuts` and returns what the scanner let through and what came after the marker. */
function scan(marker: string, stream: Buffer, cuts: number[]): { out: string; after: string; ended: boolean } {
  const s = new MarkerScanner(Buffer.from(marker));
  const parts: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    parts.push(s.feed(stream.subarray(from, at)));
    from = at;
  }
  if (!s.ended) parts.push(s.flush());
  return { out: Buffer.concat(parts).toString('latin1'), after: s.after.toString('latin1'), ended: s.ended };
}

const newMarker = markerSource();

describe('markerSource', () => {
  it('gives each command its own marker, and each shell its own random part', () => {
    const [a, b] = [markerSource(), markerSource()];
    const ours = [a(), a(), a()];
    expect(new Set(ours).size).toBe(3);
    expect(ours.every((m) => /^__ght_end_[0-9a-f]{32}_\d+$/.test(m))).toBe(true);
    expect(b().split('_')[4]).not.toBe(ours[0]!.split('_')[4]);
  });
});

describe('MarkerScanner', () => {
  const marker = newMarker();
  const output = `line one\n${marker.slice(0, 12)}not it\n__ght_end_\n${marker.slice(0, -1)}`;
  const stream = Buffer.from(`${output}${marker} 0 0 -\n`, 'latin1');

  it('finds the marker for every single cut point and passes the rest through byte for byte', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(scan(marker, stream, [i]), `cut at ${i}`).toEqual({ out: output, after: ' 0 0 -\n', ended: true });
    }
  });

  it('finds it fed one byte at a time, and for random pairs of cuts', () => {
    expect(
      scan(
        marker,
        stream,
        Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
      ).out,
    ).toBe(output);
    for (let n = 0; n < 300; n++) {
      const cuts = [Math.floor(Math.random() * stream.length), Math.floor(Math.random() * stream.length)].sort((a, b) => a - b);
      expect(scan(marker, stream, cuts).out, `cuts ${cuts}`).toBe(output);
    }
  });

  it('gives back a held-back marker start when the stream ends without the marker', () => {
    const partial = Buffer.from(`abc${marker.slice(0, 20)}`);
    expect(scan(marker, partial, [5])).toEqual({ out: partial.toString(), after: '', ended: false });
  });

  it('a marker of another command of the same shell is output, not an end', () => {
    const other = newMarker();
    expect(scan(marker, Buffer.from(`${other} 0 0 -\n`), [])).toMatchObject({ out: `${other} 0 0 -\n`, ended: false });
  });

  it('binary output with every byte value passes through unchanged', () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const s = new MarkerScanner(Buffer.from(marker));
    const out = Buffer.concat([s.feed(bytes.subarray(0, 100)), s.feed(Buffer.concat([bytes.subarray(100), Buffer.from(marker)]))]);
    expect(out.equals(bytes)).toBe(true);
  });
});

describe('parseEnd', () => {
  it.each([
    [' 0 0 -\n', { status: 0, lingering: false, signal: null }, ''],
    [' 3 0 -\n', { status: 3, lingering: false, signal: null }, ''],
    [' 143 0 TERM\n', { status: 143, lingering: false, signal: 'TERM' }, ''],
    [' 137 1 KILL\nlater', { status: 137, lingering: true, signal: 'KILL' }, 'later'],
    // 128 + a number kill -l does not name: an exit status.
    [' 200 0 -\n', { status: 200, lingering: false, signal: null }, ''],
    // Not our line: the shell counts as spoilt (retired), the status as unknown.
    [' zero 0 -\nx', { status: 255, lingering: true, signal: null }, 'x'],
  ])('%j', (line, end, rest) => {
    expect(parseEnd(Buffer.from(line))).toEqual({ end, rest: Buffer.from(rest) });
  });

  it('waits for the whole line', () => {
    expect(parseEnd(Buffer.from(' 0 0'))).toBeUndefined();
  });
});

/** Runs command lines in one real /bin/sh, as the warm shell does, and collects each command's output and status. */
async function runInSh(commands: string[]): Promise<Array<{ stdout: string; stderr: string; status: string }>> {
  const sh = spawn('/bin/sh', [], { env: { PATH: process.env.PATH, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const markers = commands.map(() => newMarker());
  let out = '';
  let err = '';
  sh.stdout.on('data', (d) => (out += d));
  sh.stderr.on('data', (d) => (err += d));
  for (const [i, c] of commands.entries()) sh.stdin.write(commandLine(c, markers[i]!));
  sh.stdin.end();
  await new Promise((r) => sh.on('close', r));
  return markers.map((m) => {
    const [before, after] = out.split(m) as [string, string];
    out = after.slice(after.indexOf('\n') + 1);
    const [errBefore, errAfter] = err.split(m) as [string, string];
    err = errAfter;
    return { stdout: before, stderr: errBefore, status: after.slice(0, after.indexOf('\n')) };
  });
}

describe('commandLine in a real /bin/sh', () => {
  it('runs commands built to break quoting as `sh -c` would, one after the other, each with its own status', async () => {
    const hostile = [
      `printf '%s\\n' "it's" 'a "quote"'`,
      'echo $((6 * 7)); echo `echo back`; echo $(echo sub)',
      "printf 'two\\nlines\\n'; exit 3",
      "echo 'unterminated\nstill one argument'",
      'echo to-stderr >&2; false',
      'cat; echo "stdin was empty"',
      'x=\'; echo injected\'; echo "$x"',
      'kill -TERM $$',
    ];
    const results = await runInSh(hostile);
    expect(results).toEqual([
      { stdout: `it's\na "quote"\n`, stderr: '', status: ' 0 0 -' },
      { stdout: '42\nback\nsub\n', stderr: '', status: ' 0 0 -' },
      { stdout: 'two\nlines\n', stderr: '', status: ' 3 0 -' },
      { stdout: 'unterminated\nstill one argument\n', stderr: '', status: ' 0 0 -' },
      { stdout: '', stderr: 'to-stderr\n', status: ' 1 0 -' },
      { stdout: 'stdin was empty\n', stderr: '', status: ' 0 0 -' },
      { stdout: '; echo injected\n', stderr: '', status: ' 0 0 -' },
      { stdout: '', stderr: '', status: ' 143 0 TERM' },
    ]);
  });

  it('each command runs in a session of its own, and a background job still running is reported', async () => {
    const [own, bg] = await runInSh(['echo "$$ $(cut -d" " -f6 /proc/$$/stat)"', 'sleep 1 & echo started']);
    const [pid, session] = own!.stdout.trim().split(' ');
    expect(session).toBe(pid);
    expect(bg).toMatchObject({ stdout: 'started\n', status: ' 0 1 -' });
  });
});

describe('the kill signal in a real /bin/sh', () => {
  it(`${KILL_SIGNAL} to the shell kills the running command's whole group, and the shell reports the end and runs the next command`, async () => {
    const sh = spawn('/bin/sh', [], { env: { PATH: process.env.PATH, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    sh.stdout.on('data', (d) => (out += d));
    sh.stderr.on('data', () => {});
    const tag = `30.000${Math.floor(Math.random() * 1e6)}`;
    const [first, second] = [newMarker(), newMarker()];
    sh.stdin.write(WARM_SHELL_INIT);
    // A command with a child of its own: the signal must take the group, not only the command's shell.
    sh.stdin.write(commandLine(`echo started; sleep ${tag} & wait`, first));
    await waitFor('the command to start', () => out.includes('started') && pgrep(`sleep ${tag}`).length >= 1, 5_000);
    process.kill(sh.pid!, `SIG${KILL_SIGNAL}` as NodeJS.Signals);
    await waitFor('the end marker', () => out.includes(first), 5_000);
    expect(pgrep(`sleep ${tag}`)).toEqual([]);
    sh.stdin.write(commandLine('echo next', second));
    await waitFor('the next command', () => out.includes(second), 5_000);
    expect(out.split(first)[1]).toMatch(/^ \d+ [01] \S+\nnext\n__ght_end_/);
    sh.stdin.end();
    await new Promise((r) => sh.on('close', r));
  });

  it('a kill signal while the shell is idle changes nothing', async () => {
    const sh = spawn('/bin/sh', [], { env: { PATH: process.env.PATH, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    sh.stdout.on('data', (d) => (out += d));
    const [first, second] = [newMarker(), newMarker()];
    sh.stdin.write(WARM_SHELL_INIT + commandLine('echo one', first));
    await waitFor('the first command', () => out.includes(first), 5_000);
    process.kill(sh.pid!, `SIG${KILL_SIGNAL}` as NodeJS.Signals);
    await new Promise((r) => setTimeout(r, 100));
    sh.stdin.write(commandLine('echo two', second));
    await waitFor('the second command', () => out.includes(second), 5_000);
    expect(out).toMatch(new RegExp(`^one\\n${first} 0 0 -\\ntwo\\n${second} 0 0 -\\n$`));
    sh.stdin.end();
  });
});
