import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { call, runCli, startServer, type RunningServer, sshEnv, expectError } from '../support/server.js';
import { sharedSshd as sshdInfo } from '../support/context.js';
import { privateNvidiaSmi } from '../support/fake-nvidia-smi.js';

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';

describe('configuration at start-up', () => {
  it('refuses a non-loopback bind address without an API key, naming the key', async () => {
    const r = await runCli(['serve'], { BIND_ADDRESS: '0.0.0.0', PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('BIND_ADDRESS');
    expect(r.stderr).toContain('API_KEY');
  });

  it('names the environment variable of a bad value', async () => {
    const r = await runCli(['serve'], { PORT: 'eighty' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gpu-host-tools: configuration error: PORT \/ server\.port: "eighty" is not a number$/m);
  });

  it('names the YAML path of a bad value', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-config-'));
    writeFileSync(`${dir}/c.yaml`, 'hosts:\n  gpu:\n    transport: ssh\n    ssh:\n      host: 10.0.0.1\n      port: 70000\n');
    const r = await runCli(['serve'], { CONFIG_FILE: `${dir}/c.yaml`, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hosts.gpu.ssh.port');
  });

  it('prints the spec without dialing any host', async () => {
    const r = await runCli(['openapi'], { SSH_HOST: '192.0.2.1' });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/gpu/status'].get.operationId).toBe('gpu_status');
  });
});

describe.each(['ssh', 'local'] as const)('foundation over the %s transport', (transport) => {
  let server: RunningServer;
  const nvidia = privateNvidiaSmi('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load');

  beforeAll(async () => {
    const sshd = sshdInfo();
    const env: Record<string, string> =
      transport === 'ssh'
        ? {
            ...sshEnv(sshd),
          }
        : // The local transport runs commands as this process: put the fake nvidia-smi first on PATH.
          { HOST_NAME: 'whisper', PATH: `${nvidia.binDir}:${process.env.PATH}` };
    // GPU answers here come from a query per call (sampler off), so a scenario switch shows in the next
    // answer; the sampler's own behaviour is tested in gpu-sampler.test.ts.
    server = await startServer({ ...env, NVIDIA_SMI_PATH: nvidia.path, API_KEY: FULL, READONLY_API_KEY: READ, GPU_SAMPLER: 'off' });
  });
  afterAll(() => server?.stop());

  it('serves health without a key and without touching a host', async () => {
    const res = await call(server.url, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports readiness per host', async () => {
    const res = await call(server.url, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', hosts: [{ name: 'whisper', reachable: true }] });
  });

  it('lists the host as reachable', async () => {
    const res = await call(server.url, 'GET', '/hosts', { key: READ });
    expect(res.status).toBe(200);
    expect(res.body.hosts).toHaveLength(1);
    expect(res.body.hosts[0]).toMatchObject({ name: 'whisper', transport, default: true, reachable: true });
    expect(res.body.hosts[0].areas).toEqual(['hosts', 'gpu', 'ollama', 'shell', 'files']);
  });

  it('reads host resources', async () => {
    const res = await call(server.url, 'GET', '/hosts/resources', { key: READ });
    expect(res.status).toBe(200);
    expect(res.body.host).toBe('whisper');
    expect(res.body.cpu_count).toBeGreaterThan(0);
    expect(res.body.memory.total_mb).toBeGreaterThan(0);
    expect(res.body.load_average).toHaveLength(3);
    expect(res.body.disks.some((d: any) => d.mount === '/')).toBe(true);
    expect(res.body.uptime_seconds).toBeGreaterThan(0);
  });

  it('reads the GPU status from nvidia-smi', async () => {
    const res = await call(server.url, 'GET', '/gpu/status', { key: READ });
    expect(res.status).toBe(200);
    expect(res.body.host).toBe('whisper');
    expect(res.body.driver_version).toBe('595.71.05');
    expect(res.body.gpus).toHaveLength(1);
    expect(res.body.gpus[0]).toMatchObject({ index: 0, name: 'NVIDIA GeForce RTX 2080 SUPER' });
    expect(res.body.gpus[0].memory_total_mb).toBeGreaterThan(8000);
    expect(Number.isNaN(Date.parse(res.body.collected_at))).toBe(false);
  });

  it('keeps the CUDA version across calls and reads it again when the driver changes', async () => {
    const first = await call(server.url, 'GET', '/gpu/status', { key: READ });
    const second = await call(server.url, 'GET', '/gpu/status', { key: READ });
    expect(first.body.cuda_version).toBe('13.2');
    expect(second.body).toMatchObject({ driver_version: '595.71.05', cuda_version: '13.2' });
    nvidia.setScenario('linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04__load');
    try {
      const upgraded = await call(server.url, 'GET', '/gpu/status', { key: READ });
      expect(upgraded.body).toMatchObject({ driver_version: '610.57.04', cuda_version: '13.3' });
    } finally {
      nvidia.setScenario('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load');
    }
    const back = await call(server.url, 'GET', '/gpu/status', { key: READ });
    expect(back.body).toMatchObject({ driver_version: '595.71.05', cuda_version: '13.2' });
  });

  it('answers 503 GPU_UNAVAILABLE quoting the remote when the driver is not loaded', async () => {
    nvidia.setScenario('driver-not-loaded');
    try {
      const res = await call(server.url, 'GET', '/gpu/status', { key: READ });
      expectError(res, 503, 'GPU_UNAVAILABLE');
      expect(res.body.message).toContain("couldn't communicate with the NVIDIA driver");
      expect(res.body.message).toContain('whisper');
    } finally {
      nvidia.setScenario('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load');
    }
  });

  it('refuses a call without a key, with a wrong key, and a read key where write is needed', async () => {
    expectError(await call(server.url, 'GET', '/gpu/status'), 401, 'UNAUTHORIZED');
    expectError(await call(server.url, 'GET', '/gpu/status', { key: 'wrong-key-0123456789abcdef' }), 401, 'UNAUTHORIZED');
    expectError(await call(server.url, 'GET', '/gpu/status', { headers: { authorization: 'Basic abc' } }), 401, 'UNAUTHORIZED');
  });

  it('rejects unknown hosts and invalid input with the documented shape', async () => {
    const unknown = await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'nope' } });
    expectError(unknown, 404, 'HOST_NOT_FOUND');
    expect(unknown.body.message).toContain('whisper');
    const bad = await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: '../etc' } });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(bad.body.message).toContain('host');
    const extra = await call(server.url, 'GET', '/hosts', { key: READ, query: { surprise: '1' } });
    expectError(extra, 400, 'VALIDATION_FAILED');
    expect(extra.body.message).toContain('surprise: unknown field');
  });

  it('answers unknown routes with the error shape', async () => {
    expectError(await call(server.url, 'GET', '/nope', { key: READ }), 404, 'NOT_FOUND');
  });

  it('serves the spec and its profiles without a key', async () => {
    const full = await call(server.url, 'GET', '/openapi.json');
    expect(full.status).toBe(200);
    expect(full.body.paths['/hosts'].get.operationId).toBe('list_hosts');
    const committed = JSON.parse(readFileSync('openapi.json', 'utf8'));
    expect(full.body).toEqual(committed);
    const gpu = await call(server.url, 'GET', '/openapi/gpu.json');
    expect(Object.keys(gpu.body.paths).sort()).toEqual(['/gpu/history', '/gpu/status']);
    const ro = await call(server.url, 'GET', '/openapi/readonly.json');
    const ids = Object.values(ro.body.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));
    expect(ids).toContain('gpu_status');
    for (const item of Object.values(ro.body.paths) as any[])
      for (const op of Object.values(item) as any[]) expect(op['x-required-scope']).toBe('read');
    expectError(await call(server.url, 'GET', '/openapi/nope.json'), 404, 'NOT_FOUND');
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await fetch(new URL('/docs', server.url));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
  });
});
