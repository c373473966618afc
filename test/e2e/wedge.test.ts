/**
 * The built server on a wedged SSH connection: it reaches the shared test sshd through a proxy that
 * freezes live connections (no RST, no FIN) and still passes new ones. The first call after a freeze
 * pays for finding the wedge and still succeeds; the next one is as quick as ever.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSshd } from '../support/context.js';
import { privateNvidiaSmi } from '../support/fake-nvidia-smi.js';
import { pathSilentForAWhile, startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';
import { call, startServer, type RunningServer } from '../support/server.js';
import { timed } from '../support/waiting.js';

const KEY = 'wedge-key-0123456789abcdef';

describe('e2e: gpu_status and shell_exec on a wedged SSH connection', () => {
  let proxy: FreezableProxy;
  let server: RunningServer;
  let nvidia: ReturnType<typeof privateNvidiaSmi>;

  const gpu = () => call(server.url, 'GET', '/gpu/status', { key: KEY });
  const shell = (command: string) => call(server.url, 'POST', '/shell/exec', { key: KEY, body: { command } });

  beforeAll(async () => {
    const sshd = sharedSshd();
    nvidia = privateNvidiaSmi();
    proxy = await startFreezableProxy(sshd);
    server = await startServer({
      HOST_NAME: 'whisper',
      SSH_HOST: proxy.host,
      SSH_PORT: String(proxy.port),
      SSH_USER: sshd.username,
      SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath,
      // The proxy's port is not in known_hosts; the pin is the same host key.
      SSH_HOST_KEY_FINGERPRINT: sshd.hostKeyFingerprint,
      NVIDIA_SMI_PATH: nvidia.path,
      API_KEY: KEY,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    if (nvidia) rmSync(nvidia.binDir, { recursive: true, force: true });
  });

  it('gpu_status 0.6 s after a freeze answers 200 within 30 s, and the next shell_exec at once', async () => {
    expect((await gpu()).status).toBe(200);
    expect(proxy.freeze()).toBe(1);
    await pathSilentForAWhile();
    const first = await timed(gpu());
    expect(first.value.status, first.value.text).toBe(200);
    expect(first.value.body.gpus.length).toBeGreaterThan(0);
    expect(first.ms).toBeLessThan(30_000);
    const next = await timed(shell('echo next'));
    expect(next.value.status, next.value.text).toBe(200);
    expect(next.value.body).toMatchObject({ exit_code: 0, stdout: 'next\n' });
    expect(next.ms).toBeLessThan(5_000);
    expect(proxy.accepted()).toBe(2);
    console.log(`e2e wedge: gpu_status first ${Math.round(first.ms)} ms, shell_exec next ${Math.round(next.ms)} ms`);
  });

  it('shell_exec 0.6 s after a second freeze answers 200 within 30 s, and the next gpu_status at once', async () => {
    expect(proxy.freeze()).toBe(1);
    await pathSilentForAWhile();
    const first = await timed(shell('echo first'));
    expect(first.value.status, first.value.text).toBe(200);
    expect(first.value.body).toMatchObject({ exit_code: 0, stdout: 'first\n' });
    expect(first.ms).toBeLessThan(30_000);
    const next = await timed(gpu());
    expect(next.value.status, next.value.text).toBe(200);
    expect(next.ms).toBeLessThan(5_000);
    expect(proxy.accepted()).toBe(3);
    console.log(`e2e wedge: shell_exec first ${Math.round(first.ms)} ms, gpu_status next ${Math.round(next.ms)} ms`);
    // Each wedge was one reconnect of the same pooled connection, as /metrics reports it.
    const metrics = await call(server.url, 'GET', '/metrics', { key: KEY });
    expect(metrics.text).toMatch(/^ght_ssh_reconnects\{host="whisper"\} 2$/m);
  });
});
