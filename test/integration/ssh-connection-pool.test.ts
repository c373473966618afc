/**
 * The connections to one host (src/infra/ssh/ssh-connection-pool.ts) through SshTransport: failing fast
 * inside the backoff window after a failed dial, and re-dialling after the server went away, on a
 * private sshd that these tests kill and restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sharedSshd } from '../support/context.js';
import { appErrorOfAsync as appErrorOf } from '../support/errors.js';
import { killMatching, pgrep, sleepMarker } from '../support/processes.js';
import { sshTransportTo } from '../support/ssh-transport.js';
import { freePort, startSshd, type Sshd } from '../support/sshd.js';
import { waitFor } from '../support/waiting.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

describe('SshConnectionPool backoff', () => {
  it('after a failure, calls inside the backoff window fail fast with the same error', async () => {
    const port = await freePort();
    const t = sshTransportTo(sharedSshd(), { port, backoffInitialMs: 2_000 });
    const first = await appErrorOf(t.probe());
    const began = Date.now();
    const second = await appErrorOf(t.probe());
    expect(Date.now() - began).toBeLessThan(100);
    expect(second.message).toBe(first.message);
    expect(t.status().state).toBe('failed');
  });
});

describe('SshConnectionPool reconnect (own sshd)', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  // A test that fails between kill() and restart() must not leave the server down for the next one.
  afterEach(() => sshd.restart());
  afterAll(() => sshd.dispose());

  it('a connection that drops mid-exec fails that exec fast with 503, and the next call reconnects', async () => {
    const t = sshTransportTo(sshd, { backoffInitialMs: 100 });
    const m = sleepMarker();
    try {
      await t.probe();
      const pending = appErrorOf(t.exec(`sleep ${m}`, defaults));
      await waitFor('the remote sleep to start', () => pgrep(`sleep ${m}`).length >= 1, 5_000);
      const began = Date.now();
      await sshd.kill();
      const err = await pending;
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(err.code).toBe('HOST_UNREACHABLE');
      expect(err.message).toMatch(/dropped while the command was running/);
      await sshd.restart();
      await waitFor(
        'the transport to reconnect',
        async () => (await t.exec('echo back', defaults).catch(() => null))?.stdout === 'back\n',
        10_000,
      );
      expect(t.status()).toMatchObject({ state: 'connected', reconnects: 1 });
    } finally {
      await t.close();
      // The dropped session's sleep outlives its sshd process (no terminal, so no SIGHUP): end it here.
      killMatching(`sleep ${m}`);
    }
  });

  it('survives the server going away and coming back on the same port, without a new transport', async () => {
    const t = sshTransportTo(sshd, { backoffInitialMs: 200 });
    try {
      expect((await t.exec('echo one', defaults)).stdout).toBe('one\n');
      const sftpBefore = await t.sftp();

      await sshd.kill();
      // While it is down: a quick 503, not a hang.
      const began = Date.now();
      const down = await appErrorOf(t.exec('echo two', defaults));
      expect(Date.now() - began).toBeLessThan(2_000);
      expect(down.status).toBe(503);
      // Either the connect was refused or, if the call raced the drop, its channel died with the connection.
      expect(down.code).toBe('HOST_UNREACHABLE');

      await sshd.restart();
      let result;
      await waitFor(
        'a call to succeed after the restart',
        async () => {
          result = await t.exec('echo three', defaults).catch(() => undefined);
          return result !== undefined;
        },
        10_000,
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
