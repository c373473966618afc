/**
 * LocalTransport: child processes on this machine, with the same semantics as the ssh transport.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalTransport } from '../../src/infra/local/local-transport.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { expectStdoutStreamed } from '../support/transport-checks.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };
const t = new LocalTransport();

function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A unique, harmless `sleep` argument, so pgrep finds only this test's processes. */
function marker(): string {
  return `7${String(randomBytes(3).readUIntBE(0, 3)).padStart(8, '0')}.5`;
}

describe('LocalTransport', () => {
  it('hands stdout to onStdout as it arrives, beyond the kept caps, without the pid preamble', async () => {
    await expectStdoutStreamed(t, defaults);
  });

  it('identifies itself and is always connected', async () => {
    expect(t.kind).toBe('local');
    expect(t.address).toBe('local');
    await t.probe();
    expect(t.status()).toEqual({ state: 'connected', reconnects: 0, channelsWaiting: 0 });
  });

  it('returns stdout, stderr and exit codes 0, 3 and 127', async () => {
    expect(await t.exec('echo out; echo err >&2', defaults)).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: 'out\n',
      stderr: 'err\n',
      stdoutBytes: 4,
      stderrBytes: 4,
      timedOut: false,
    });
    expect((await t.exec('exit 3', defaults)).exitCode).toBe(3);
    const missing = await t.exec('definitely-not-a-command-ght', defaults);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/not found/);
  });

  it('reports death by signal with the name without SIG', async () => {
    const r = await t.exec('kill -TERM $$', defaults);
    expect(r).toMatchObject({ exitCode: null, signal: 'TERM', timedOut: false });
  });

  it('on timeout kills the whole process group, children included', async () => {
    const m = marker();
    const pending = t.exec(`sleep ${m} & sleep ${m}; echo never`, { ...defaults, timeoutMs: 1_000 });
    // Prove they ran, so "none left" means killed.
    await waitFor(() => pgrep(`sleep ${m}`).length >= 2, 5_000, 'the sleeps to start');
    const r = await pending;
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'KILL', stdout: '' });
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the sleeps to be killed');
  });

  it('a background child that keeps the output open is killed at the timeout too', async () => {
    // The shell exits at once but its child holds stdout: the call waits (like an ssh channel would) and
    // the timeout kills the child.
    const m = marker();
    const r = await t.exec(`echo started; sleep ${m} &`, { ...defaults, timeoutMs: 800 });
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toBe('started\n');
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the background sleep to be killed');
  });

  it('an abort kills the command', async () => {
    const m = marker();
    const ac = new AbortController();
    const pending = t.exec(`sleep ${m}`, { ...defaults, signal: ac.signal });
    await waitFor(() => pgrep(`sleep ${m}`).length >= 1, 5_000, 'the sleep to start');
    ac.abort();
    const r = await pending;
    expect(r).toMatchObject({ exitCode: null, timedOut: false, signal: 'KILL' });
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the sleep to be killed');
  });

  it('caps stdout and stderr to head + tail and counts every byte', async () => {
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
    expect(r.stderr).toBe('e'.repeat(50) + '\n[... 4900 bytes omitted ...]\n' + 'e'.repeat(50));
    expect(r.stderrTruncated).toBe(true);
  });

  it('stdin is closed, so a command reading it ends at once', async () => {
    const r = await t.exec('cat; echo after-cat', { ...defaults, timeoutMs: 5_000 });
    expect(r).toMatchObject({ timedOut: false, exitCode: 0, stdout: 'after-cat\n' });
  });

  it('runs in cwd (quoted safely), defaults to home, and refuses to run in a missing one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ght cwd 'quoted' $(x) "));
    try {
      expect((await t.exec('pwd', { ...defaults, cwd: dir })).stdout).toBe(dir + '\n');
      expect((await t.exec('pwd', defaults)).stdout).toBe(os.homedir() + '\n');
      const missing = await t.exec('echo first; echo second', { ...defaults, cwd: '/nonexistent/ght' });
      expect(missing).toMatchObject({ exitCode: 1, stdout: '' });
      expect(missing.stderr).toMatch(/nonexistent/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('close() kills commands still running', async () => {
    const own = new LocalTransport();
    const m = marker();
    const pending = own.exec(`sleep ${m}`, defaults);
    await waitFor(() => pgrep(`sleep ${m}`).length >= 1, 5_000, 'the sleep to start');
    await own.close();
    const r = await pending;
    expect(r.exitCode).toBeNull();
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the sleep to be killed');
    await expect(own.exec('true', defaults)).rejects.toMatchObject({ code: 'HOST_UNREACHABLE' });
  });
});
