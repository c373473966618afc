/**
 * The wedge probe of a live connection (src/infra/ssh/ssh-connection.ts), through SshTransport. A wedged
 * connection: the network path to the host goes silent without closing (no RST, no FIN). The
 * transport talks to the shared test sshd through test/support/freezable-proxy.ts, which freezes the live
 * connection and still passes new ones. Each test uses the transport's default wedge timings (3 s of
 * silence, then a 5 s keepalive probe), so the durations asserted and printed are the ones users get.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SftpFileSystem } from '../../src/infra/files/sftp-file-system.js';
import type { SshTransport } from '../../src/infra/ssh/ssh-transport.js';
import { shellQuote } from '../../src/infra/shell-quote.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { appErrorOfAsync as appErrorOf } from '../support/errors.js';
import { sharedSshd } from '../support/context.js';
import { pathSilentForAWhile, startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';
import { sshTransportVia } from '../support/ssh-transport.js';
import type { SshdInfo } from '../support/sshd.js';
import { timed } from '../support/waiting.js';

const opts = (timeoutMs = 20_000): ExecOptions => ({ timeoutMs, maxStdoutBytes: 65536, maxStderrBytes: 65536 });

let sshd: SshdInfo;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  sshd = sharedSshd();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(): Promise<{ proxy: FreezableProxy; t: SshTransport; dir: string }> {
  const proxy = await startFreezableProxy(sshd);
  const t = sshTransportVia(proxy, sshd, { name: 'wedge' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ght-wedge-'));
  cleanups.push(
    () => rm(dir, { recursive: true, force: true }),
    () => proxy.close(),
    () => t.close(),
  );
  return { proxy, t, dir };
}

/** A command that appends one line to `file` and prints it: how many times it really ran is countable. */
const countedEcho = (file: string, word: string) => `echo ${word} >> ${shellQuote(file)}; echo ${word}`;

describe('SshTransport on a wedged connection', () => {
  it('the first call after a freeze reconnects and runs the command exactly once; the next call is quick', async () => {
    const { proxy, t, dir } = await setup();
    expect((await t.exec('echo warm', opts())).stdout).toBe('warm\n');
    expect(proxy.freeze()).toBe(1);
    await pathSilentForAWhile();

    const ran = path.join(dir, 'ran');
    const first = await timed(t.exec(countedEcho(ran, 'first'), opts()));
    expect(first.value).toMatchObject({ exitCode: 0, stdout: 'first\n', timedOut: false });
    expect(first.ms).toBeLessThan(30_000);
    // The open never reached sshd on the frozen connection, so the one run is the retry on the new one.
    expect(await readFile(ran, 'utf8')).toBe('first\n');
    expect(proxy.accepted()).toBe(2);
    expect(t.status()).toMatchObject({ state: 'connected', reconnects: 1 });
    expect(t.status().lastError).toMatch(/no answer to an SSH keepalive within 5 s after 3 s of silence/);

    const next = await timed(t.exec('echo next', opts()));
    expect(next.value.stdout).toBe('next\n');
    expect(next.ms).toBeLessThan(5_000);
    console.log(`wedged connection: first call ${Math.round(first.ms)} ms (reconnected), next call ${Math.round(next.ms)} ms`);
  });

  it('calls that arrive while the wedge is being found all run once on the new connection, with one reconnect', async () => {
    const { proxy, t, dir } = await setup();
    await t.exec('true', opts());
    proxy.freeze();
    await pathSilentForAWhile();
    const files = Array.from({ length: 6 }, (_, i) => path.join(dir, `ran-${i}`));
    const results = await Promise.all(files.map((f, i) => t.exec(countedEcho(f, `c${i}`), opts())));
    expect(results.map((r) => r.stdout)).toEqual(files.map((_, i) => `c${i}\n`));
    for (const [i, f] of files.entries()) expect(await readFile(f, 'utf8')).toBe(`c${i}\n`);
    expect(proxy.accepted()).toBe(2);
    expect(t.status().reconnects).toBe(1);
  });

  it('a command already running when the path freezes fails within seconds with 503 naming the host, not at its timeout', async () => {
    const { proxy, t } = await setup();
    await t.exec('true', opts());
    const running = timed(appErrorOf(t.exec('echo started; sleep 15', opts(120_000))));
    // Let it start (its output is in flight on the live connection) before the path dies.
    await new Promise((r) => setTimeout(r, 500));
    proxy.freeze();
    const { value: err, ms } = await running;
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_UNREACHABLE');
    expect(err.message).toContain(`${sshd.username}@127.0.0.1:${proxy.port}`);
    expect(err.message).toMatch(/dropped while the command was running; it may or may not have completed/);
    expect(ms).toBeLessThan(30_000);
    const next = await timed(t.exec('echo after', opts()));
    expect(next.value.stdout).toBe('after\n');
    expect(next.ms).toBeLessThan(5_000);
  });

  it('a command sent within 0.5 s of the last traffic into a path that just froze fails as dropped while running (503), and the next call works', async () => {
    const { proxy, t, dir } = await setup();
    await t.exec('true', opts());
    proxy.freeze();
    const ran = path.join(dir, 'ran');
    // Written to the warm shell at once (the host was heard a moment ago): it cannot be told from a command that ran.
    const err = await appErrorOf(t.exec(countedEcho(ran, 'maybe'), opts()));
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_UNREACHABLE');
    expect(err.message).toMatch(/dropped while the command was running; it may or may not have completed/);
    // It never reached the host, and nothing runs it again behind the caller's back.
    await expect(readFile(ran, 'utf8')).rejects.toThrow(/ENOENT/);
    expect((await t.exec('echo next', opts())).stdout).toBe('next\n');
    expect(t.status().reconnects).toBe(1);
  });

  it('a call whose own timeout is shorter than the wedge check fails in time, and the next call still gets a new connection', async () => {
    const { proxy, t } = await setup();
    await t.exec('true', opts());
    proxy.freeze();
    await pathSilentForAWhile();
    const err = await appErrorOf(t.exec('echo short', opts(1_500)));
    expect(err.status).toBe(504);
    expect(err.code).toBe('HOST_TIMEOUT');
    expect(err.message).toMatch(
      // An idle warm shell waits for the host to answer before the command is written to it.
      /did not start .* within its 1\.5 s timeout \(still waiting for an answer from the host\); it was not run/,
    );
    const next = await timed(t.exec('echo next', opts()));
    expect(next.value.stdout).toBe('next\n');
    // The abandoned open keeps the watchdog running, so the wedge is found about 8 s after the freeze.
    expect(next.ms).toBeLessThan(15_000);
    expect(t.status().reconnects).toBe(1);
  });

  it('a command that is silent for longer than the wedge check is not mistaken for a wedge', async () => {
    const { proxy, t } = await setup();
    // 9 s of no output: the watchdog probes (at least once) and the healthy connection answers.
    const r = await t.exec('sleep 9; echo done', opts(60_000));
    expect(r).toMatchObject({ exitCode: 0, stdout: 'done\n' });
    expect(t.status()).toMatchObject({ state: 'connected', reconnects: 0 });
    expect(proxy.accepted()).toBe(1);
  });

  it('an SFTP request on a wedged connection fails within seconds, and the next one works on a new session', async () => {
    const { proxy, t, dir } = await setup();
    // A long per-request bound, so only the wedge handling can make the failure quick.
    const fs = new SftpFileSystem({ sftp: () => t.sftp(), address: t.address, opTimeoutMs: 120_000, awaitReply: () => t.awaitReply() });
    expect((await fs.lstat(dir)).type).toBe('directory');
    proxy.freeze();
    const { value: err, ms } = await timed(appErrorOf(fs.lstat(dir)));
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_UNREACHABLE');
    expect(err.message).toContain(`The SFTP session to ${t.address} was lost during lstat of ${dir}`);
    expect(ms).toBeLessThan(30_000);
    const next = await timed(fs.lstat(dir));
    expect(next.value.type).toBe('directory');
    expect(next.ms).toBeLessThan(5_000);
    expect(proxy.accepted()).toBe(2);
  });
});
