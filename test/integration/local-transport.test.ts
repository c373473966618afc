/**
 * What only LocalTransport has. The behaviour it shares with the ssh transport (results, caps, timeouts,
 * kills, cwd) is the contract suite in transport-contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LocalTransport } from '../../src/infra/local/local-transport.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { pgrep, sleepMarker } from '../support/processes.js';
import { waitFor } from '../support/waiting.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

describe('LocalTransport', () => {
  it('identifies itself and is always connected', async () => {
    const t = new LocalTransport();
    expect(t.kind).toBe('local');
    expect(t.address).toBe('local');
    await t.probe();
    expect(t.status()).toEqual({ state: 'connected', reconnects: 0, channelsWaiting: 0 });
  });

  it('close() kills commands still running, children included', async () => {
    const own = new LocalTransport();
    const m = sleepMarker();
    const pending = own.exec(`sleep ${m} & sleep ${m}`, defaults);
    await waitFor('the sleeps to start', () => pgrep(`sleep ${m}`).length >= 2, 5_000);
    await own.close();
    expect((await pending).exitCode).toBeNull();
    await waitFor('the sleeps to be killed', () => pgrep(`sleep ${m}`).length === 0, 3_000);
  });

  it('a shell that cannot be started is a 503 HOST_ERROR naming it, not a crash', async () => {
    const t = new LocalTransport({ shell: '/nonexistent/ght/sh' });
    await expect(t.exec('true', defaults)).rejects.toMatchObject({
      status: 503,
      code: 'HOST_ERROR',
      message: expect.stringContaining('/nonexistent/ght/sh'),
    });
  });
});
