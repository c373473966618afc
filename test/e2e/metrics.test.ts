import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { chmodSync, mkdtempSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { call, startServer, type RunningServer } from '../support/server.js';
import { sharedSshd } from '../support/context.js';
import { installFakeNvidiaSmi, setNvidiaSmiScenario } from '../support/fake-nvidia-smi.js';

const READ = 'read-key-0123456789abcdef';
const FULL = 'full-key-0123456789abcdef';

/** A fake nvidia-smi that also logs each GPU query, so the test can count real invocations. */
function countingNvidiaSmi(): { binDir: string; gpuQueries: () => number; versionQueries: () => number } {
  const binDir = mkdtempSync(path.join(os.tmpdir(), 'ght-metrics-bin-'));
  installFakeNvidiaSmi(binDir);
  setNvidiaSmiScenario(binDir, 'linux-x86_64__nvidia-l40s__595.80__load');
  renameSync(`${binDir}/nvidia-smi`, `${binDir}/nvidia-smi.real`);
  writeFileSync(
    `${binDir}/nvidia-smi`,
    '#!/bin/sh\ncase "$1" in --query-gpu=*) echo q >> "$(dirname "$0")/queries.log";; --version) echo v >> "$(dirname "$0")/versions.log";; esac\nexec "$(dirname "$0")/nvidia-smi.real" "$@"\n',
  );
  chmodSync(`${binDir}/nvidia-smi`, 0o755);
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
  return { binDir, gpuQueries: () => lines(`${binDir}/queries.log`), versionQueries: () => lines(`${binDir}/versions.log`) };
}

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('/metrics', () => {
  let server: RunningServer;
  let nvidia: ReturnType<typeof countingNvidiaSmi>;

  beforeAll(async () => {
    const sshd = sharedSshd();
    nvidia = countingNvidiaSmi();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-metrics-'));
    writeFileSync(
      `${dir}/config.yaml`,
      `keys:\n  admin: {key: ${FULL}, scopes: [read, write, shell]}\n  viewer: {key: ${READ}, scopes: [read]}\n` +
        `hosts:\n  box:\n    transport: local\n    nvidia_smi_path: ${nvidia.binDir}/nvidia-smi\n` +
        `  whisper:\n    transport: ssh\n    ssh: {host: ${sshd.host}, port: ${sshd.port}, user: ${sshd.username}, private_key_path: ${sshd.privateKeyPath}, known_hosts: ${sshd.knownHostsPath}}\n    nvidia_smi_path: ${nvidia.binDir}/nvidia-smi\n`,
    );
    server = await startServer({ CONFIG_FILE: `${dir}/config.yaml` });
  });
  afterAll(() => server?.stop());

  it('needs a key with the read scope', async () => {
    expect((await call(server.url, 'GET', '/metrics')).status).toBe(401);
    expect((await call(server.url, 'GET', '/metrics', { key: READ })).status).toBe(200);
  });

  it('counts requests per operation and status, and reports SSH state and GPU gauges', async () => {
    await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'whisper' } });
    await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'nope' } });
    const res = await fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${READ}` } });
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'ght_requests_total', { operation: 'gpu_status', status: '200', surface: 'rest' })).toBe(1);
    expect(sample(text, 'ght_requests_total', { operation: 'gpu_status', status: '404', surface: 'rest' })).toBe(1);
    expect(sample(text, 'ght_request_duration_seconds_count', { operation: 'gpu_status', status: '200' })).toBe(1);
    expect(sample(text, 'ght_ssh_connection_state', { host: 'whisper', state: 'connected' })).toBe(1);
    expect(sample(text, 'ght_ssh_reconnects', { host: 'whisper' })).toBe(0);
    expect(sample(text, 'ght_gpu_memory_total_bytes', { host: 'box', gpu: '0', name: 'NVIDIA L40S' })).toBeGreaterThan(40e9);
    expect(sample(text, 'ght_gpu_temperature_celsius', { host: 'whisper', gpu: '0' })).toBeGreaterThan(0);
    expect(sample(text, 'ght_gpu_up', { host: 'box' })).toBe(1);
    expect(text).toContain('ght_process_resident_memory_bytes');
  });

  it('runs nvidia-smi at most once per host per cache interval, however many scrapes', async () => {
    // The previous test's scrape filled the cache; ten quick scrapes, some in parallel, reuse it.
    const before = nvidia.gpuQueries();
    await Promise.all(Array.from({ length: 5 }, () => call(server.url, 'GET', '/metrics', { key: READ })));
    for (let i = 0; i < 5; i++) await call(server.url, 'GET', '/metrics', { key: READ });
    expect(nvidia.gpuQueries() - before).toBeLessThanOrEqual(2); // at most one refresh per host if the interval rolled over
  });

  it('runs nvidia-smi --version once per host, not on every reading', async () => {
    const versionsBefore = nvidia.versionQueries();
    const queriesBefore = nvidia.gpuQueries();
    for (let i = 0; i < 3; i++) await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'box' } });
    expect(nvidia.gpuQueries() - queriesBefore).toBe(3);
    expect(nvidia.versionQueries() - versionsBefore).toBe(0); // the scrapes above already read it once
    expect(nvidia.versionQueries()).toBeLessThanOrEqual(2); // once per host (box and whisper)
  });
});
