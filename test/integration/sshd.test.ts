/**
 * The test sshd helper (test/support/sshd.ts) that the ssh tests rely on: a restart keeps the port and
 * host key, and the fake-command directory is first on the remote PATH.
 */
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sshTransportTo } from '../support/ssh-transport.js';
import { startSshd, type Sshd } from '../support/sshd.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

describe('test sshd helper', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(() => sshd.dispose());

  it('puts the fake-command directory on the remote PATH', async () => {
    const script = path.join(sshd.binDir, 'ght-path-probe');
    await writeFile(script, '#!/bin/sh\necho probe-found\n');
    await chmod(script, 0o755);
    const t = sshTransportTo(sshd);
    try {
      expect((await t.exec('ght-path-probe', defaults)).stdout).toBe('probe-found\n');
      expect((await t.exec('command -v ght-path-probe', defaults)).stdout).toBe(script + '\n');
    } finally {
      await t.close();
    }
  });

  it('restart keeps the port and host key', async () => {
    const before = { port: sshd.port, fp: sshd.hostKeyFingerprint };
    await sshd.stop();
    await sshd.restart();
    expect({ port: sshd.port, fp: sshd.hostKeyFingerprint }).toEqual(before);
    const t = sshTransportTo(sshd);
    try {
      expect((await t.exec('echo up', defaults)).stdout).toBe('up\n');
    } finally {
      await t.close();
    }
  });
});
