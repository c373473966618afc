/**
 * SshTransport against a real OpenSSH server (test/support/sshd.ts). The shared server from globalSetup
 * serves the tests that leave it alone; tests that kill, restart or misconfigure a server start their own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'ssh2';
import { AppError } from '../../src/common/errors.js';
import { SshTransport, type SshTransportOptions } from '../../src/infra/ssh/ssh-transport.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sharedSshd } from '../support/context.js';
import { startFreezableProxy } from '../support/freezable-proxy.js';
import { freePort, generateKey, startSshd, type Sshd, type SshdInfo } from '../support/sshd.js';
import { expectStdoutStreamed } from '../support/transport-checks.js';

const execFileP = promisify(execFile);

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

function transportFor(s: SshdInfo, extra: Partial<SshTransportOptions> = {}): SshTransport {
  return new SshTransport({
    name: 'test',
    host: s.host,
    port: s.port,
    username: s.username,
    privateKeyPath: s.privateKeyPath,
    knownHostsPath: s.knownHostsPath,
    connectTimeoutMs: 5_000,
    ...extra,
  });
}

/** The AppError a promise rejects with (fails the test if it resolves or rejects with something else). */
async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the call to fail');
}

/** pids whose full command line contains `pattern` (the test host is the ssh host). */
function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/**
 * Counts the exec channel opens every ssh2 client in this process sends, and how many sshd refused
 * (observed on the prototype: the transport's clients are private to it).
 */
function countExecOpens(): { opens: number; refused: number; restore: () => void } {
  const proto = Client.prototype as unknown as { exec: (...args: unknown[]) => unknown };
  const original = proto.exec;
  const counts = {
    opens: 0,
    refused: 0,
    restore: () => {
      proto.exec = original;
    },
  };
  proto.exec = function (this: Client, ...args: unknown[]) {
    counts.opens++;
    const i = args.findIndex((a) => typeof a === 'function');
    const callback = args[i] as (err: Error | undefined, ch: unknown) => void;
    args[i] = (err: Error | undefined, ch: unknown) => {
      if (err) counts.refused++;
      callback(err, ch);
    };
    return original.apply(this, args);
  };
  return counts;
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A unique, harmless `sleep` argument, so pgrep finds only this test's processes. */
function marker(): string {
  return `6${String(randomBytes(3).readUIntBE(0, 3)).padStart(8, '0')}.5`;
}

describe('SshTransport exec (shared sshd)', () => {
  let sshd: SshdInfo;
  let t: SshTransport;

  beforeAll(() => {
    sshd = sharedSshd();
    t = transportFor(sshd);
  });
  afterAll(() => t.close());

  it('does not dial on construction, connects on first use', async () => {
    const lazy = transportFor(sshd);
    expect(lazy.status()).toEqual({ state: 'idle', reconnects: 0, channelsWaiting: 0 });
    expect(lazy.kind).toBe('ssh');
    expect(lazy.address).toBe(`${sshd.username}@127.0.0.1:${sshd.port}`);
    await lazy.probe();
    expect(lazy.status().state).toBe('connected');
    await lazy.close();
  });

  it('hands stdout to onStdout as it arrives, beyond the kept caps, without the pid preamble', async () => {
    await expectStdoutStreamed(t, defaults);
  });

  it('returns stdout, stderr and exit code 0', async () => {
    const r = await t.exec('echo out; echo err >&2', defaults);
    expect(r).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: 'out\n',
      stderr: 'err\n',
      stdoutBytes: 4,
      stderrBytes: 4,
      stdoutTruncated: false,
      stderrTruncated: false,
      timedOut: false,
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a non-zero exit is a result, not an error (3 and 127)', async () => {
    expect((await t.exec('echo partial; exit 3', defaults)).exitCode).toBe(3);
    const missing = await t.exec('definitely-not-a-command-ght', defaults);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/not found/);
  });

  it('reports death by signal with the name without SIG', async () => {
    const r = await t.exec('kill -TERM $$', defaults);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('TERM');
    expect(r.timedOut).toBe(false);
  });

  it('on timeout kills the whole remote process tree and says so', async () => {
    const m = marker();
    // Two sleeps in the same session: a background one and a foreground one, like `cmd & cmd`.
    const pending = t.exec(`sleep ${m} & sleep ${m}; echo never`, { ...defaults, timeoutMs: 1_500 });
    // Prove the processes existed, so "none left" below means they were killed, not never started.
    await waitFor(() => pgrep(`sleep ${m}`).length >= 2, 5_000, 'the remote sleeps to start');
    const r = await pending;
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('KILL');
    expect(r.stdout).toBe('');
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the remote sleeps to be killed');
  });

  it('a background child that keeps the output open is killed at the timeout too', async () => {
    // The shell exits at once, but sshd keeps the channel open while the child holds stdout; after the
    // shell is gone sshd has no session process to signal, so this needs the process-group kill.
    const m = marker();
    const r = await t.exec(`echo started; sleep ${m} &`, { ...defaults, timeoutMs: 1_000 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'KILL', stdout: 'started\n' });
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the background sleep to be killed');
  });

  it('an aborted call kills the remote command too', async () => {
    const m = marker();
    const ac = new AbortController();
    const pending = t.exec(`sleep ${m}`, { ...defaults, signal: ac.signal });
    await waitFor(() => pgrep(`sleep ${m}`).length >= 1, 5_000, 'the remote sleep to start');
    ac.abort();
    const r = await pending;
    expect(r.exitCode).toBeNull();
    expect(r.timedOut).toBe(false);
    await waitFor(() => pgrep(`sleep ${m}`).length === 0, 3_000, 'the remote sleep to be killed');
  });

  it('an already-aborted signal rejects without running anything', async () => {
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(t.exec('echo hi', { ...defaults, signal: ac.signal })).rejects.toThrow('gone');
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
    expect(r.stderrBytes).toBe(5000);
    expect(r.stderrTruncated).toBe(true);
    expect(r.stderr).toBe('e'.repeat(50) + '\n[... 4900 bytes omitted ...]\n' + 'e'.repeat(50));
  });

  it('streams 64 MiB through small caps without keeping it', async () => {
    const r = await t.exec('head -c 67108864 /dev/zero', { ...defaults, maxStdoutBytes: 4096, timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdoutBytes).toBe(67_108_864);
    expect(r.stdout.length).toBeLessThan(4096 + 64);
  });

  it('closes stdin at once, so a command reading it ends', async () => {
    const r = await t.exec('cat; echo after-cat', { ...defaults, timeoutMs: 5_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('after-cat\n');
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
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/nonexistent/);
  });

  it('runs 50 concurrent execs on one connection with zero errors (queueing under MaxSessions 10)', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => t.exec(`sleep 0.1; echo job-${i}`, defaults)));
    results.forEach((r, i) => {
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`job-${i}\n`);
    });
    expect(t.status()).toMatchObject({ state: 'connected', reconnects: 0 });
  });

  it('a channel limit above MaxSessions: the refused opens wait for a close, all 12 run, and later calls queue instead of being refused', async () => {
    // With maxChannels 12 > MaxSessions 10, sshd refuses the 11th and 12th session. The sleep outlasts the
    // at-once retries of a refused open, so without waiting for a close the refusal would surface.
    const loose = transportFor(sshd, { maxChannels: 12, maxConnections: 1 });
    const opens = countExecOpens();
    try {
      const first = await Promise.all(Array.from({ length: 12 }, (_, i) => loose.exec(`sleep 2; echo first-${i}`, defaults)));
      expect(first.map((r) => r.stdout)).toEqual(first.map((_, i) => `first-${i}\n`));
      const refusedInFirst = opens.refused;
      expect(refusedInFirst).toBeGreaterThan(0);
      // The connection now takes what sshd took: a second burst queues in the transport, so at most a
      // stray refusal (sshd not yet done freeing a session we just closed) instead of one per extra call.
      const second = await Promise.all(Array.from({ length: 12 }, (_, i) => loose.exec(`sleep 0.5; echo second-${i}`, defaults)));
      expect(second.map((r) => r.stdout)).toEqual(second.map((_, i) => `second-${i}\n`));
      expect(opens.refused - refusedInFirst).toBeLessThanOrEqual(2);
    } finally {
      opens.restore();
      await loose.close();
    }
  });

  it('dials a second connection only when the first has every channel busy, and runs 16 at once across both', async () => {
    const proxy = await startFreezableProxy(sshd);
    const pooled = new SshTransport({
      name: 'pool',
      host: proxy.host,
      port: proxy.port,
      username: sshd.username,
      privateKeyPath: sshd.privateKeyPath,
      hostKeyFingerprint: sshd.hostKeyFingerprint,
      maxChannels: 8,
      maxConnections: 2,
    });
    try {
      // Up to 8 at once: the one warm connection.
      const few = await Promise.all(Array.from({ length: 8 }, (_, i) => pooled.exec(`echo few-${i}`, defaults)));
      expect(few.map((r) => r.stdout)).toEqual(few.map((_, i) => `few-${i}\n`));
      expect(proxy.accepted()).toBe(1);
      // 16 at once: the first connection's 8 channels are busy, so the other 8 go to a second one.
      const many = await Promise.all(Array.from({ length: 16 }, (_, i) => pooled.exec(`sleep 1; echo many-${i}`, defaults)));
      expect(many.map((r) => r.stdout)).toEqual(many.map((_, i) => `many-${i}\n`));
      expect(proxy.accepted()).toBe(2);
      expect(pooled.status()).toMatchObject({ state: 'connected', reconnects: 0 });
    } finally {
      await pooled.close();
      await proxy.close();
    }
  });

  it('a command that waits in the queue past its timeout is not run and says why', async () => {
    const narrow = transportFor(sshd, { maxChannels: 1, maxConnections: 1 });
    try {
      const blocker = narrow.exec('sleep 2', defaults);
      const err = await appError(narrow.exec('echo late', { ...defaults, timeoutMs: 300 }));
      expect(err.code).toBe('HOST_TIMEOUT');
      expect(err.message).toMatch(/did not start/);
      expect((await blocker).exitCode).toBe(0);
    } finally {
      await narrow.close();
    }
  });

  it('sets TCP_NODELAY on the socket (each exec would otherwise cost ~40 ms)', async () => {
    // The socket is private to the transport; observe the call on the prototype.
    const original = net.Socket.prototype.setNoDelay;
    const seen: boolean[] = [];
    net.Socket.prototype.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
      seen.push(noDelay !== false);
      return original.call(this, noDelay);
    };
    const fresh = transportFor(sshd);
    try {
      await fresh.probe();
    } finally {
      net.Socket.prototype.setNoDelay = original;
      await fresh.close();
    }
    expect(seen).toContain(true);
  });

  it('opens one cached SFTP session on the same connection', async () => {
    const a = await t.sftp();
    const b = await t.sftp();
    expect(a).toBe(b);
    const list = await new Promise<string[]>((resolve, reject) =>
      a.readdir(sshd.dir, (err, entries) => (err ? reject(err) : resolve(entries.map((e) => e.filename)))),
    );
    expect(list).toContain('known_hosts');
  });
});

describe('SshTransport host key verification', () => {
  let sshd: SshdInfo;
  let dir: string;

  beforeAll(async () => {
    sshd = sharedSshd();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ght-kh-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses an unknown host (empty known_hosts) with the fingerprint and how to trust it', async () => {
    const empty = path.join(dir, 'empty_known_hosts');
    await writeFile(empty, '');
    const t = transportFor(sshd, { knownHostsPath: empty });
    const err = await appError(t.exec('true', defaults));
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(err.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}`);
    expect(err.message).toContain('SSH_HOST_KEY_FINGERPRINT / host_key_fingerprint');
    expect(t.status()).toMatchObject({ state: 'failed', lastError: err.message });
    await t.close();
  });

  it('a missing known_hosts file counts as empty (refused, not crashed)', async () => {
    const t = transportFor(sshd, { knownHostsPath: path.join(dir, 'does-not-exist') });
    expect((await appError(t.probe())).code).toBe('HOST_KEY_UNKNOWN');
    await t.close();
  });

  it('refuses a changed key and says it changed', async () => {
    const other = path.join(dir, 'other_host_key');
    await generateKey(other);
    const [type, b64] = (await readFile(other + '.pub', 'utf8')).split(/\s+/);
    const wrong = path.join(dir, 'wrong_known_hosts');
    await writeFile(wrong, `# a comment\n[127.0.0.1]:${sshd.port} ${type} ${b64}\n`);
    const t = transportFor(sshd, { knownHostsPath: wrong });
    const err = await appError(t.exec('true', defaults));
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toMatch(/CHANGED/);
    expect(err.message).toContain(`SHA256:`);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(err.message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
    await t.close();
  });

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const hashed = path.join(dir, 'hashed_known_hosts');
    await writeFile(hashed, await readFile(sshd.knownHostsPath));
    await execFileP('ssh-keygen', ['-H', '-f', hashed]);
    const text = await readFile(hashed, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    expect(text).not.toContain('127.0.0.1');
    const t = transportFor(sshd, { knownHostsPath: hashed });
    expect((await t.exec('echo ok', defaults)).stdout).toBe('ok\n');
    await t.close();
  });

  it('accepts the key written by ssh-keyscan, as the error message suggests', async () => {
    const scanned = path.join(dir, 'scanned_known_hosts');
    const { stdout } = await execFileP('ssh-keyscan', ['-p', String(sshd.port), '127.0.0.1']);
    await writeFile(scanned, stdout);
    const t = transportFor(sshd, { knownHostsPath: scanned });
    expect((await t.exec('echo ok', defaults)).stdout).toBe('ok\n');
    await t.close();
  });

  it('accepts a pinned fingerprint without any known_hosts file', async () => {
    const t = transportFor(sshd, { knownHostsPath: undefined, hostKeyFingerprint: sshd.hostKeyFingerprint });
    expect((await t.exec('echo pinned', defaults)).stdout).toBe('pinned\n');
    await t.close();
  });

  it('refuses a wrong pinned fingerprint', async () => {
    const t = transportFor(sshd, {
      knownHostsPath: undefined,
      hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43),
    });
    const err = await appError(t.probe());
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    await t.close();
  });

  it('has no accept-anything mode: neither known_hosts nor a pin is a construction error', () => {
    expect(() => transportFor(sshd, { knownHostsPath: undefined })).toThrow(/known_hosts/);
  });
});

describe('SshTransport connection failures', () => {
  let sshd: SshdInfo;
  beforeAll(() => {
    sshd = sharedSshd();
  });

  it('a closed port fails fast with HOST_UNREACHABLE', async () => {
    const port = await freePort();
    const t = transportFor(sshd, { port });
    const began = Date.now();
    const err = await appError(t.exec('true', defaults));
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_UNREACHABLE');
    expect(err.message).toBe(
      `SSH to ${sshd.username}@127.0.0.1:${port} was refused (connection refused); check that sshd is running and the address and port are right.`,
    );
    await t.close();
  });

  it('a server that accepts TCP but never speaks SSH times out within the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const t = transportFor(sshd, { port, connectTimeoutMs: 500 });
    try {
      const began = Date.now();
      const err = await appError(t.exec('true', defaults));
      expect(Date.now() - began).toBeLessThan(3_000);
      expect(err.status).toBe(504);
      expect(err.code).toBe('HOST_TIMEOUT');
      expect(err.message).toMatch(/handshake/);
    } finally {
      await t.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a key the server does not accept is SSH_AUTH_FAILED', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ght-key-'));
    try {
      await generateKey(path.join(dir, 'stranger'));
      const t = transportFor(sshd, { privateKeyPath: path.join(dir, 'stranger') });
      const err = await appError(t.exec('true', defaults));
      expect(err.status).toBe(503);
      expect(err.code).toBe('SSH_AUTH_FAILED');
      expect(err.message).toContain(path.join(dir, 'stranger'));
      expect(err.message).not.toMatch(/PRIVATE KEY|at .*\.js/);
      await t.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unreadable key file is SSH_AUTH_FAILED naming the path', async () => {
    const t = transportFor(sshd, { privateKeyPath: '/nonexistent/ght/id_ed25519' });
    const err = await appError(t.probe());
    expect(err.code).toBe('SSH_AUTH_FAILED');
    expect(err.message).toContain('/nonexistent/ght/id_ed25519');
    expect(err.message).toContain('ENOENT');
  });

  it('after a failure, calls inside the backoff window fail fast with the same error', async () => {
    const port = await freePort();
    const t = transportFor(sshd, { port, backoffInitialMs: 2_000 });
    const first = await appError(t.probe());
    const began = Date.now();
    const second = await appError(t.probe());
    expect(Date.now() - began).toBeLessThan(100);
    expect(second.message).toBe(first.message);
    expect(t.status().state).toBe('failed');
  });
});

describe('SshTransport under a low MaxSessions (own sshd, MaxSessions 3)', () => {
  let low: Sshd;
  beforeAll(async () => {
    low = await startSshd({ extraConfig: ['MaxSessions 3'] });
  });
  afterAll(async () => {
    await low?.dispose();
  });

  it('60 concurrent calls with maxChannels 8 all answer, with a few refused opens instead of a storm', async () => {
    const t = transportFor(low, { maxChannels: 8, maxConnections: 1 });
    const opens = countExecOpens();
    try {
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => t.exec(`echo call-${i}`, defaults)));
      expect(results.map((r) => [r.exitCode, r.stdout])).toEqual(results.map((_, i) => [0, `call-${i}\n`]));
      // 5 of the first 8 opens are refused, and then the connection is held to what sshd takes. Retrying
      // each refusal at once instead would send hundreds of opens that sshd refuses.
      expect(opens.refused).toBeGreaterThanOrEqual(5);
      expect(opens.refused).toBeLessThanOrEqual(15);
      expect(opens.opens).toBe(60 + opens.refused);
      expect(t.status()).toMatchObject({ state: 'connected', reconnects: 0, channelsWaiting: 0 });
    } finally {
      opens.restore();
      await t.close();
    }
  });

  it('a refused call that waits for a close still gives up at its own timeout, saying what it waited for', async () => {
    const t = transportFor(low, { maxChannels: 8, maxConnections: 1 });
    try {
      // Three seconds, with a tag to find them by (sleep reads 3.000xxxxxx as about 3 s).
      const tag = `3.000${randomBytes(3).readUIntBE(0, 3)}`;
      const blockers = Array.from({ length: 3 }, () => t.exec(`sleep ${tag}`, defaults));
      await waitFor(() => pgrep(`sleep ${tag}`).length >= 3, 5_000, 'the three blockers to start');
      const err = await appError(t.exec('echo late', { ...defaults, timeoutMs: 800 }));
      expect(err.code).toBe('HOST_TIMEOUT');
      expect(err.message).toMatch(/did not start/);
      expect(err.message).toMatch(/session channel/);
      for (const r of await Promise.all(blockers)) expect(r.exitCode).toBe(0);
      // Once the blockers are done, the host takes calls again at once.
      expect((await t.exec('echo after', defaults)).stdout).toBe('after\n');
    } finally {
      await t.close();
    }
  });
});

describe('SshTransport on an sshd that refuses every session (own sshd, MaxSessions 0)', () => {
  let none: Sshd;
  beforeAll(async () => {
    none = await startSshd({ extraConfig: ['MaxSessions 0'] });
  });
  afterAll(async () => {
    await none?.dispose();
  });

  it('concurrent calls do not wait on each other for a close that never comes: each fails with the refusal, after bounded retries', async () => {
    const t = transportFor(none, { maxChannels: 4, maxConnections: 1 });
    const opens = countExecOpens();
    try {
      const began = Date.now();
      const errors = await Promise.all(Array.from({ length: 4 }, () => appError(t.exec('echo never', { ...defaults, timeoutMs: 30_000 }))));
      // The retries take about 0.6 s; far from the 30 s timeout, which would mean waiting for a close.
      expect(Date.now() - began).toBeLessThan(15_000);
      for (const err of errors) {
        expect(err.code).toBe('HOST_UNREACHABLE');
        expect(err.message).toMatch(/could not open a session channel/);
        expect(err.message).toMatch(/max_channels/);
      }
      expect(opens.refused).toBe(opens.opens);
      expect(opens.opens).toBeLessThanOrEqual(4 * 16);
    } finally {
      opens.restore();
      await t.close();
    }
  });
});

describe('SshTransport reconnect (own sshd)', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  // A test that fails between kill() and restart() must not leave the server down for the next one.
  afterEach(() => sshd.restart());
  afterAll(() => sshd.dispose());

  it('puts the fake-command directory on the remote PATH', async () => {
    const script = path.join(sshd.binDir, 'ght-path-probe');
    await writeFile(script, '#!/bin/sh\necho probe-found\n');
    await chmod(script, 0o755);
    const t = transportFor(sshd);
    try {
      expect((await t.exec('ght-path-probe', defaults)).stdout).toBe('probe-found\n');
      expect((await t.exec('command -v ght-path-probe', defaults)).stdout).toBe(script + '\n');
    } finally {
      await t.close();
    }
  });

  it('a connection that drops mid-exec fails that exec fast with 503, and the next call reconnects', async () => {
    const t = transportFor(sshd, { backoffInitialMs: 100 });
    const m = marker();
    try {
      await t.probe();
      const pending = appError(t.exec(`sleep ${m}`, defaults));
      await waitFor(() => pgrep(`sleep ${m}`).length >= 1, 5_000, 'the remote sleep to start');
      const began = Date.now();
      await sshd.kill();
      const err = await pending;
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(err.code).toBe('HOST_UNREACHABLE');
      expect(err.message).toMatch(/dropped while the command was running/);
      await sshd.restart();
      await waitFor(
        async () => (await t.exec('echo back', defaults).catch(() => null))?.stdout === 'back\n',
        10_000,
        'the transport to reconnect',
      );
      expect(t.status()).toMatchObject({ state: 'connected', reconnects: 1 });
    } finally {
      await t.close();
      // The dropped session's sleep outlives its sshd process (no terminal, so no SIGHUP): end it here.
      for (const pid of pgrep(`sleep ${m}`)) process.kill(pid, 'SIGKILL');
    }
  });

  it('survives the server going away and coming back on the same port, without a new transport', async () => {
    const t = transportFor(sshd, { backoffInitialMs: 200 });
    try {
      expect((await t.exec('echo one', defaults)).stdout).toBe('one\n');
      const sftpBefore = await t.sftp();

      await sshd.kill();
      // While it is down: a quick 503, not a hang.
      const began = Date.now();
      const down = await appError(t.exec('echo two', defaults));
      expect(Date.now() - began).toBeLessThan(2_000);
      expect(down.status).toBe(503);
      // Either the connect was refused or, if the call raced the drop, its channel died with the connection.
      expect(down.code).toBe('HOST_UNREACHABLE');

      await sshd.restart();
      let result;
      await waitFor(
        async () => {
          result = await t.exec('echo three', defaults).catch(() => undefined);
          return result !== undefined;
        },
        10_000,
        'a call to succeed after the restart',
      );
      expect(result).toMatchObject({ exitCode: 0, stdout: 'three\n' });
      expect(t.status()).toMatchObject({ state: 'connected', reconnects: 1 });
      // The SFTP session belonged to the dead connection; a fresh one comes from the new one.
      const sftpAfter = await t.sftp();
      expect(sftpAfter).not.toBe(sftpBefore);
    } finally {
      await t.close();
    }
  });
});

describe('test sshd helper', () => {
  it('restart keeps the port and host key', async () => {
    const s = await startSshd();
    try {
      const before = { port: s.port, fp: s.hostKeyFingerprint };
      await s.stop();
      await s.restart();
      expect({ port: s.port, fp: s.hostKeyFingerprint }).toEqual(before);
      const t = transportFor(s);
      expect((await t.exec('echo up', defaults)).stdout).toBe('up\n');
      await t.close();
    } finally {
      await s.dispose();
    }
  });
});
