/**
 * What SshTransport itself adds over the transport contract (transport-contract.test.ts), against the
 * shared real OpenSSH server: lazy dialling, queueing exec calls under sshd's MaxSessions, spreading a
 * burst over a second connection, and the cached SFTP session. Dialling and host keys are in
 * ssh-connect.test.ts, reconnects and backoff in ssh-connection-pool.test.ts, wedges in ssh-connection.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshTransport } from '../../src/infra/ssh/ssh-transport.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sharedSshd } from '../support/context.js';
import { appErrorOfAsync as appErrorOf } from '../support/errors.js';
import { startFreezableProxy } from '../support/freezable-proxy.js';
import { countExecOpens, sshTransportTo, sshTransportVia } from '../support/ssh-transport.js';
import { pgrep } from '../support/processes.js';
import { waitFor } from '../support/waiting.js';
import { startSshd, type Sshd, type SshdInfo } from '../support/sshd.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

describe('SshTransport (shared sshd)', () => {
  let sshd: SshdInfo;
  let t: SshTransport;

  beforeAll(() => {
    sshd = sharedSshd();
    t = sshTransportTo(sshd);
  });
  afterAll(() => t.close());

  it('does not dial on construction, connects on first use', async () => {
    const lazy = sshTransportTo(sshd);
    expect(lazy.status()).toEqual({ state: 'idle', reconnects: 0, channelsWaiting: 0 });
    expect(lazy.kind).toBe('ssh');
    expect(lazy.address).toBe(`${sshd.username}@127.0.0.1:${sshd.port}`);
    await lazy.probe();
    expect(lazy.status().state).toBe('connected');
    await lazy.close();
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
    const loose = sshTransportTo(sshd, { maxChannels: 12, maxConnections: 1 });
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
    const pooled = sshTransportVia(proxy, sshd, { name: 'pool', maxChannels: 8, maxConnections: 2 });
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
    const narrow = sshTransportTo(sshd, { maxChannels: 1, maxConnections: 1 });
    try {
      const blocker = narrow.exec('sleep 2', defaults);
      const err = await appErrorOf(narrow.exec('echo late', { ...defaults, timeoutMs: 300 }));
      expect(err.code).toBe('HOST_TIMEOUT');
      expect(err.message).toMatch(/did not start/);
      expect((await blocker).exitCode).toBe(0);
    } finally {
      await narrow.close();
    }
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

describe('SshTransport under a low MaxSessions (own sshd, MaxSessions 3)', () => {
  let low: Sshd;
  beforeAll(async () => {
    low = await startSshd({ extraConfig: ['MaxSessions 3'] });
  });
  afterAll(async () => {
    await low?.dispose();
  });

  it.each([
    ['a channel per command', false],
    ['warm shells', true],
  ])('60 concurrent calls with maxChannels 8 all answer, with a few refused opens instead of a storm (%s)', async (_, warmShells) => {
    const t = sshTransportTo(low, { maxChannels: 8, maxConnections: 1, warmShells });
    const opens = countExecOpens();
    try {
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => t.exec(`echo call-${i}`, defaults)));
      expect(results.map((r) => [r.exitCode, r.stdout])).toEqual(results.map((_, i) => [0, `call-${i}\n`]));
      // 5 of the first 8 opens are refused, and then the connection is held to what sshd takes. Retrying
      // each refusal at once instead would send hundreds of opens that sshd refuses.
      expect(opens.refused).toBeGreaterThanOrEqual(5);
      expect(opens.refused).toBeLessThanOrEqual(15);
      // Warm shells: the three sessions sshd gives run all 60 (a shell is given back to sshd, and opened
      // again, only while a refused open waits for a session).
      if (warmShells) expect(opens.opens - opens.refused).toBeLessThanOrEqual(12);
      else expect(opens.opens).toBe(60 + opens.refused);
      expect(t.status()).toMatchObject({ state: 'connected', reconnects: 0, channelsWaiting: 0 });
    } finally {
      opens.restore();
      await t.close();
    }
  });

  it('a refused call that waits for a close still gives up at its own timeout, saying what it waited for', async () => {
    const t = sshTransportTo(low, { maxChannels: 8, maxConnections: 1 });
    try {
      // Three seconds, with a tag to find them by (sleep reads 3.000xxxxxx as about 3 s).
      const tag = `3.000${randomBytes(3).readUIntBE(0, 3)}`;
      const blockers = Array.from({ length: 3 }, () => t.exec(`sleep ${tag}`, defaults));
      await waitFor('the three blockers to start', () => pgrep(`sleep ${tag}`).length >= 3, 5_000);
      const err = await appErrorOf(t.exec('echo late', { ...defaults, timeoutMs: 800 }));
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
    const t = sshTransportTo(none, { maxChannels: 4, maxConnections: 1 });
    const opens = countExecOpens();
    try {
      const began = Date.now();
      const errors = await Promise.all(
        Array.from({ length: 4 }, () => appErrorOf(t.exec('echo never', { ...defaults, timeoutMs: 30_000 }))),
      );
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
