/**
 * Dialling a host (src/infra/ssh/ssh-connect.ts) through SshTransport against a real OpenSSH server:
 * host keys checked against known_hosts (plain, hashed, changed, missing) or a pinned fingerprint, and
 * each way a dial fails (closed port, a server that never speaks SSH, a refused or unreadable key)
 * answered with one AppError that names the host and what to do.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sharedSshd } from '../support/context.js';
import { appErrorOfAsync as appErrorOf } from '../support/errors.js';
import { sshTransportTo } from '../support/ssh-transport.js';
import { freePort, generateKey, type SshdInfo } from '../support/sshd.js';

const execFileP = promisify(execFile);

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

describe('dialling: host key verification', () => {
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
    const t = sshTransportTo(sshd, { knownHostsPath: empty });
    const err = await appErrorOf(t.exec('true', defaults));
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(err.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}`);
    expect(err.message).toContain('SSH_HOST_KEY_FINGERPRINT / host_key_fingerprint');
    expect(t.status()).toMatchObject({ state: 'failed', lastError: err.message });
    await t.close();
  });

  it('a missing known_hosts file counts as empty (refused, not crashed)', async () => {
    const t = sshTransportTo(sshd, { knownHostsPath: path.join(dir, 'does-not-exist') });
    expect((await appErrorOf(t.probe())).code).toBe('HOST_KEY_UNKNOWN');
    await t.close();
  });

  it('refuses a changed key and says it changed', async () => {
    const other = path.join(dir, 'other_host_key');
    await generateKey(other);
    const [type, b64] = (await readFile(other + '.pub', 'utf8')).split(/\s+/);
    const wrong = path.join(dir, 'wrong_known_hosts');
    await writeFile(wrong, `# a comment\n[127.0.0.1]:${sshd.port} ${type} ${b64}\n`);
    const t = sshTransportTo(sshd, { knownHostsPath: wrong });
    const err = await appErrorOf(t.exec('true', defaults));
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
    const t = sshTransportTo(sshd, { knownHostsPath: hashed });
    expect((await t.exec('echo ok', defaults)).stdout).toBe('ok\n');
    await t.close();
  });

  it('accepts the key written by ssh-keyscan, as the error message suggests', async () => {
    const scanned = path.join(dir, 'scanned_known_hosts');
    const { stdout } = await execFileP('ssh-keyscan', ['-p', String(sshd.port), '127.0.0.1']);
    await writeFile(scanned, stdout);
    const t = sshTransportTo(sshd, { knownHostsPath: scanned });
    expect((await t.exec('echo ok', defaults)).stdout).toBe('ok\n');
    await t.close();
  });

  it('accepts a pinned fingerprint without any known_hosts file', async () => {
    const t = sshTransportTo(sshd, { knownHostsPath: undefined, hostKeyFingerprint: sshd.hostKeyFingerprint });
    expect((await t.exec('echo pinned', defaults)).stdout).toBe('pinned\n');
    await t.close();
  });

  it('refuses a wrong pinned fingerprint', async () => {
    const t = sshTransportTo(sshd, {
      knownHostsPath: undefined,
      hostKeyFingerprint: 'SHA256:' + 'A'.repeat(43),
    });
    const err = await appErrorOf(t.probe());
    expect(err.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    await t.close();
  });

  it('has no accept-anything mode: neither known_hosts nor a pin is a construction error', () => {
    expect(() => sshTransportTo(sshd, { knownHostsPath: undefined })).toThrow(/known_hosts/);
  });
});

describe('dialling: connection failures', () => {
  let sshd: SshdInfo;
  beforeAll(() => {
    sshd = sharedSshd();
  });

  it('a closed port fails fast with HOST_UNREACHABLE', async () => {
    const port = await freePort();
    const t = sshTransportTo(sshd, { port });
    const began = Date.now();
    const err = await appErrorOf(t.exec('true', defaults));
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
    const t = sshTransportTo(sshd, { port, connectTimeoutMs: 500 });
    try {
      const began = Date.now();
      const err = await appErrorOf(t.exec('true', defaults));
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
      const t = sshTransportTo(sshd, { privateKeyPath: path.join(dir, 'stranger') });
      const err = await appErrorOf(t.exec('true', defaults));
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
    const t = sshTransportTo(sshd, { privateKeyPath: '/nonexistent/ght/id_ed25519' });
    const err = await appErrorOf(t.probe());
    expect(err.code).toBe('SSH_AUTH_FAILED');
    expect(err.message).toContain('/nonexistent/ght/id_ed25519');
    expect(err.message).toContain('ENOENT');
  });

  it('sets TCP_NODELAY on the socket (each exec would otherwise cost ~40 ms)', async () => {
    // The socket is private to the transport; observe the call on the prototype.
    const original = net.Socket.prototype.setNoDelay;
    const seen: boolean[] = [];
    net.Socket.prototype.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
      seen.push(noDelay !== false);
      return original.call(this, noDelay);
    };
    const fresh = sshTransportTo(sshd);
    try {
      await fresh.probe();
    } finally {
      net.Socket.prototype.setNoDelay = original;
      await fresh.close();
    }
    expect(seen).toContain(true);
  });
});
