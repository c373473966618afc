/**
 * The behaviour every HostTransport (src/infra/transport.ts) promises, written once and run against each
 * transport (test/integration/transport-contract.test.ts): the result's shape, exit codes and signals,
 * the output caps and their omission marker, the read limit, timeouts, aborts and killing the process
 * group, cwd, the environment and stdin. The commands run on this machine either way (the test sshd
 * runs here), so pgrep sees what the transport left running.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecOptions, HostTransport } from '../../src/infra/transport.js';
import { appErrorOfAsync } from './errors.js';
import { pgrep, sleepMarker } from './processes.js';
import { waitFor } from './waiting.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

const running = (m: string) => pgrep(`sleep ${m}`).length;

/** Defines the contract suite for the transports `make` builds (each test that closes one makes its own). */
export function describeTransportContract(label: string, make: () => HostTransport): void {
  describe(`${label}: the HostTransport contract`, () => {
    let t: HostTransport;
    beforeAll(() => {
      t = make();
    });
    afterAll(() => t.close());

    it('returns stdout, stderr, their byte counts and exit code 0, untruncated', async () => {
      const r = await t.exec('echo out; echo err >&2', defaults);
      expect(r).toEqual({
        exitCode: 0,
        signal: null,
        stdout: 'out\n',
        stderr: 'err\n',
        stdoutBytes: 4,
        stderrBytes: 4,
        stdoutTruncated: false,
        stderrTruncated: false,
        timedOut: false,
        outputLimitReached: false,
        durationMs: expect.any(Number),
      });
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('a non-zero exit is a result, not an error (3 and 127)', async () => {
      expect(await t.exec('echo partial; exit 3', defaults)).toMatchObject({ exitCode: 3, signal: null, stdout: 'partial\n' });
      const missing = await t.exec('definitely-not-a-command-ght', defaults);
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toMatch(/not found/);
    });

    it('reports death by signal with the name without SIG', async () => {
      expect(await t.exec('kill -TERM $$', defaults)).toMatchObject({ exitCode: null, signal: 'TERM', timedOut: false });
    });

    it('hands stdout to onStdout as it arrives, beyond the kept caps, without the pid preamble', async () => {
      // The command prints its second line only once the first has reached the callback, so a
      // transport that hands over the final buffer instead of a stream waits in vain.
      const chunks: string[] = [];
      let sawFirstBeforeSecond = false;
      const flagDir = mkdtempSync(path.join(os.tmpdir(), 'ght-onstdout-'));
      const flag = path.join(flagDir, 'go');
      try {
        const r = await t.exec(
          `echo first; i=0; while [ ! -e ${flag} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; rm -f ${flag}; echo second; head -c 5000 /dev/zero | tr '\\0' x`,
          {
            ...defaults,
            maxStdoutBytes: 16,
            onStdout: (chunk) => {
              chunks.push(chunk.toString('utf8'));
              if (chunks.join('').includes('first\n') && !sawFirstBeforeSecond && !chunks.join('').includes('second')) {
                sawFirstBeforeSecond = true;
                writeFileSync(flag, '');
              }
            },
          },
        );
        expect(r.exitCode).toBe(0);
        expect(sawFirstBeforeSecond).toBe(true);
        expect(chunks.join('')).toBe(`first\nsecond\n${'x'.repeat(5000)}`);
        expect(r.stdoutTruncated).toBe(true);
      } finally {
        rmSync(flagDir, { recursive: true, force: true });
      }
    });

    it('caps stdout and stderr to head + tail with the omission marker, and counts every byte', async () => {
      const r = await t.exec(`printf START; head -c 1000000 /dev/zero | tr '\\0' a; printf END; head -c 5000 /dev/zero | tr '\\0' e >&2`, {
        ...defaults,
        maxStdoutBytes: 1000,
        maxStderrBytes: 100,
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdoutBytes).toBe(1_000_008);
      expect(r.stdoutTruncated).toBe(true);
      expect(r.stdout.startsWith('START' + 'a'.repeat(495) + '\n[... 999008 bytes omitted ...]\n')).toBe(true);
      expect(r.stdout.endsWith('a'.repeat(497) + 'END')).toBe(true);
      expect(r.stderrBytes).toBe(5000);
      expect(r.stderrTruncated).toBe(true);
      expect(r.stderr).toBe('e'.repeat(50) + '\n[... 4900 bytes omitted ...]\n' + 'e'.repeat(50));
    });

    it('cuts capped output on UTF-8 character boundaries, never inside a character', async () => {
      // 3-byte characters against odd caps: a cut by bytes would leave U+FFFD at both ends of the gap.
      const r = await t.exec(`i=0; while [ $i -lt 2000 ]; do printf '€'; i=$((i+1)); done; printf 'é' >&2; printf '€€€€' >&2`, {
        ...defaults,
        maxStdoutBytes: 101,
        maxStderrBytes: 7,
      });
      expect(r.stdoutBytes).toBe(6000);
      expect(r.stdout).not.toContain('\uFFFD');
      const [head, tail] = r.stdout.split(/\n\[\.\.\. \d+ bytes omitted \.\.\.\]\n/);
      expect(head).toMatch(/^€+$/);
      expect(tail).toMatch(/^€+$/);
      expect(Buffer.byteLength(head!) + Buffer.byteLength(tail!)).toBeLessThanOrEqual(101);
      expect(r.stdout).toContain(`[... ${6000 - Buffer.byteLength(head!) - Buffer.byteLength(tail!)} bytes omitted ...]`);
      expect(r.stderrBytes).toBe(14);
      expect(r.stderr).not.toContain('\uFFFD');
      expect(r.stderr.startsWith('é')).toBe(true);
      expect(r.stderr.endsWith('€')).toBe(true);
    });

    it('streams 64 MiB through small caps without keeping it', async () => {
      const r = await t.exec('head -c 67108864 /dev/zero', { ...defaults, maxStdoutBytes: 4096, timeoutMs: 30_000 });
      expect(r.exitCode).toBe(0);
      expect(r.stdoutBytes).toBe(67_108_864);
      expect(r.stdout.length).toBeLessThan(4096 + 64);
    });

    it('ends a command whose output passes maxReadBytes, kills it, and says so', async () => {
      // `yes` never ends by itself: only the read limit (or the 20 s timeout, which must not be what ends it) stops it.
      const m = sleepMarker();
      const r = await t.exec(`sleep ${m} & yes`, { ...defaults, timeoutMs: 20_000, maxStdoutBytes: 1000, maxReadBytes: 1_000_000 });
      expect(r).toMatchObject({ outputLimitReached: true, timedOut: false, exitCode: null, signal: 'KILL', stdoutTruncated: true });
      expect(r.stdoutBytes).toBeGreaterThan(1_000_000);
      expect(r.stdout.startsWith('y\ny\n')).toBe(true);
      await waitFor('the background sleep to be killed', () => running(m) === 0, 5_000);
      // The same limit counts stderr.
      const e = await t.exec('yes >&2', { ...defaults, timeoutMs: 20_000, maxStderrBytes: 1000, maxReadBytes: 100_000 });
      expect(e).toMatchObject({ outputLimitReached: true, timedOut: false, stdoutBytes: 0 });
      expect(e.stderrBytes).toBeGreaterThan(100_000);
    });

    it('on timeout kills the whole process group, children included, and says so', async () => {
      const m = sleepMarker();
      // Two sleeps in the same session: a background one and a foreground one, like `cmd & cmd`.
      const pending = t.exec(`sleep ${m} & sleep ${m}; echo never`, { ...defaults, timeoutMs: 1_500 });
      // Prove the processes existed, so "none left" below means they were killed, not never started.
      await waitFor('the sleeps to start', () => running(m) >= 2, 5_000);
      expect(await pending).toMatchObject({ timedOut: true, exitCode: null, signal: 'KILL', stdout: '', outputLimitReached: false });
      await waitFor('the sleeps to be killed', () => running(m) === 0, 3_000);
    });

    it('a background child that keeps the output open is killed at the timeout too', async () => {
      // The shell exits at once, but its child holds stdout: the call waits (as an ssh channel stays open
      // while anything holds the session's output) and the timeout kills the child by its process group.
      const m = sleepMarker();
      const r = await t.exec(`echo started; sleep ${m} &`, { ...defaults, timeoutMs: 1_000 });
      expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'KILL', stdout: 'started\n' });
      await waitFor('the background sleep to be killed', () => running(m) === 0, 3_000);
    });

    it('an abort kills the command and its children', async () => {
      const m = sleepMarker();
      const ac = new AbortController();
      const pending = t.exec(`sleep ${m} & sleep ${m}`, { ...defaults, signal: ac.signal });
      await waitFor('the sleeps to start', () => running(m) >= 2, 5_000);
      ac.abort();
      expect(await pending).toMatchObject({ exitCode: null, signal: 'KILL', timedOut: false });
      await waitFor('the sleeps to be killed', () => running(m) === 0, 3_000);
    });

    it('an already-aborted signal rejects with its reason without running anything', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ght-aborted-'));
      try {
        const ac = new AbortController();
        ac.abort(new Error('gone'));
        const ran = path.join(dir, 'ran');
        await expect(t.exec(`touch ${ran}`, { ...defaults, signal: ac.signal })).rejects.toThrow('gone');
        // Give a command that did start time to show itself.
        expect((await t.exec(`sleep 0.2; ls ${dir}`, defaults)).stdout).toBe('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('closes stdin at once, so a command reading it ends', async () => {
      expect(await t.exec('cat; echo after-cat', { ...defaults, timeoutMs: 5_000 })).toMatchObject({
        timedOut: false,
        exitCode: 0,
        stdout: 'after-cat\n',
      });
    });

    it('runs in cwd, quoting it safely, and defaults to the home directory', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "ght cwd 'quoted' $(x) "));
      try {
        expect((await t.exec('pwd', { ...defaults, cwd: dir })).stdout).toBe(dir + '\n');
        expect((await t.exec('pwd', defaults)).stdout).toBe(os.homedir() + '\n');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('a missing cwd fails the command before any of it runs', async () => {
      const r = await t.exec('echo first; echo second', { ...defaults, cwd: '/nonexistent/ght' });
      expect(r).toMatchObject({ exitCode: 1, stdout: '' });
      expect(r.stderr).toMatch(/nonexistent/);
    });

    it("runs through sh -c in the account's environment", async () => {
      const r = await t.exec(`echo "$HOME"; X='a b'; export X; sh -c 'echo "[$X]"'`, defaults);
      expect(r).toMatchObject({ exitCode: 0, stdout: `${os.homedir()}\n[a b]\n` });
    });

    it('after close() it refuses to run anything with a 503 HOST_UNREACHABLE saying it is shut down', async () => {
      const own = make();
      expect((await own.exec('echo up', defaults)).stdout).toBe('up\n');
      await own.close();
      const err = await appErrorOfAsync(own.exec('echo again', defaults));
      expect(err).toMatchObject({ status: 503, code: 'HOST_UNREACHABLE' });
      expect(err.message).toMatch(/shut down/);
    });
  });
}
