/**
 * /metrics: every metric the README names, read from a scrape after the call that should move it. A
 * private sshd (it is stopped and restarted here) and a fake Ollama for the job gauge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, startServer, type RunningServer } from '../support/server.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { NVIDIA_SMI_FIXTURES_DIR, installFakeNvidiaSmi, setNvidiaSmiScenario } from '../support/fake-nvidia-smi.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { until } from '../support/waiting.js';

const READ = 'read-key-0123456789abcdef';
const FULL = 'full-key-0123456789abcdef';

/** A fake nvidia-smi that also logs each GPU query, so the test can count real invocations. */
function countingNvidiaSmi(): { binDir: string; gpuQueries: () => number; versionQueries: () => number } {
  const binDir = mkdtempSync(join(tmpdir(), 'ght-metrics-bin-'));
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

/** A value of one GPU field in a capture's query of every field (units removed), e.g. power.draw of L40S idle. */
function captured(scenario: string, field: string): number {
  const [capture, state] = scenario.split(/__(?=idle$|load$)/);
  const text = readFileSync(
    join(NVIDIA_SMI_FIXTURES_DIR, 'nvidia_gpu_exporter-split', capture, `${state}__query-gpu-csv-what-the-exporter-parses.txt`),
    'utf8',
  );
  const [header, row] = text.split('\n');
  const i = header.split(', ').findIndex((h) => h.replace(/ \[.*\]$/, '') === field);
  return Number.parseFloat(row.split(', ')[i]);
}

const L40S_LOAD = 'linux-x86_64__nvidia-l40s__595.80__load';
const L40S_IDLE = 'linux-x86_64__nvidia-l40s__595.80__idle';

describe('/metrics', () => {
  let server: RunningServer;
  let nvidia: ReturnType<typeof countingNvidiaSmi>;
  let sshd: Sshd;
  let ollama: FakeOllama;
  let dir: string;
  const scrape = async () => (await call(server.url, 'GET', '/metrics', { key: READ })).text as string;

  afterAll(async () => {
    await server?.stop();
    await Promise.all([sshd?.dispose(), ollama?.stop()]);
    for (const d of [dir, nvidia?.binDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  beforeAll(async () => {
    [sshd, ollama] = await Promise.all([startSshd(), startFakeOllama()]);
    nvidia = countingNvidiaSmi();
    dir = mkdtempSync(join(tmpdir(), 'ght-metrics-'));
    // The sampler is off: this file tests the scrape cache (today's behaviour without it); the sampler's
    // readings are tested in gpu-sampler.test.ts.
    writeFileSync(
      `${dir}/config.yaml`,
      `keys:\n  admin: {key: ${FULL}, scopes: [read, write, shell]}\n  viewer: {key: ${READ}, scopes: [read]}\n` +
        `gpu: {sampler: 'off'}\n` +
        `hosts:\n  box:\n    transport: local\n    nvidia_smi_path: ${nvidia.binDir}/nvidia-smi\n    ollama_url: ${ollama.url}\n` +
        `  whisper:\n    transport: ssh\n    ssh: {host: ${sshd.host}, port: ${sshd.port}, user: ${sshd.username}, private_key_path: ${sshd.privateKeyPath}, known_hosts: ${sshd.knownHostsPath}}\n    nvidia_smi_path: ${nvidia.binDir}/nvidia-smi\n`,
    );
    server = await startServer({ CONFIG_FILE: `${dir}/config.yaml` });
  });

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

  it('ght_jobs: every kind and state, zeros included, moved by a pull that fails and one that runs', async () => {
    const before = await scrape();
    for (const kind of ['pull', 'create'])
      for (const state of ['running', 'succeeded', 'failed', 'cancelled']) expect(sample(before, 'ght_jobs', { kind, state })).toBe(0);
    const failed = await call(server.url, 'POST', '/ollama/pull', { key: FULL, body: { host: 'box', model: 'no-such-model:7b' } });
    expect(failed.body).toMatchObject({ state: 'failed' });
    ollama.state.pullDelayMs = 200; // slow enough to be running at the scrape
    const running = await call(server.url, 'POST', '/ollama/pull', {
      key: FULL,
      body: { host: 'box', model: 'gemma:2b', wait_seconds: 0 },
    });
    expect(running.body).toMatchObject({ state: 'running' });
    const after = await scrape();
    expect(sample(after, 'ght_jobs', { kind: 'pull', state: 'failed' })).toBe(1);
    expect(sample(after, 'ght_jobs', { kind: 'pull', state: 'running' })).toBe(1);
    const jobId = (running.body as { job_id: string }).job_id;
    await call(server.url, 'POST', `/ollama/jobs/${jobId}/cancel`, { key: FULL, body: {} });
    const cancelled = await scrape();
    expect(sample(cancelled, 'ght_jobs', { kind: 'pull', state: 'cancelled' })).toBe(1);
    expect(sample(cancelled, 'ght_jobs', { kind: 'pull', state: 'running' })).toBe(0);
  });

  it('GPU gauges follow the GPU: idle and load values of the capture, each gauge', async () => {
    const gauges: Array<[string, string, (v: number) => number]> = [
      ['ght_gpu_utilization_percent', 'utilization.gpu', (v) => v],
      ['ght_gpu_memory_used_bytes', 'memory.used', (v) => v * 1024 * 1024],
      ['ght_gpu_memory_total_bytes', 'memory.total', (v) => v * 1024 * 1024],
      ['ght_gpu_temperature_celsius', 'temperature.gpu', (v) => v],
      ['ght_gpu_power_draw_watts', 'power.draw', (v) => v],
    ];
    for (const scenario of [L40S_IDLE, L40S_LOAD]) {
      setNvidiaSmiScenario(nvidia.binDir, scenario);
      // Scrapes reuse a reading for 10 s: wait for the one taken after the change.
      const text = await until(`the ${scenario} power draw`, async () => {
        const t = await scrape();
        return sample(t, 'ght_gpu_power_draw_watts', { host: 'box', gpu: '0' }) === captured(scenario, 'power.draw') ? t : undefined;
      });
      for (const [name, field, convert] of gauges) {
        expect(sample(text, name, { host: 'box', gpu: '0', name: 'NVIDIA L40S' }), `${name} ${scenario}`).toBe(
          convert(captured(scenario, field)),
        );
      }
    }
    expect(captured(L40S_IDLE, 'power.draw')).not.toBe(captured(L40S_LOAD, 'power.draw'));
  }, 120_000); // waits for the 10 s scrape cache to roll over, several times

  it('ght_gpu_up goes to 0 while nvidia-smi fails, logged once per change of state, and back to 1', async () => {
    setNvidiaSmiScenario(nvidia.binDir, 'driver-not-loaded');
    const warning = "GPU metrics for host 'box' are missing (ght_gpu_up 0): nvidia-smi on host 'box' failed";
    try {
      await until('ght_gpu_up 0', async () => (sample(await scrape(), 'ght_gpu_up', { host: 'box' }) === 0 ? true : undefined));
      // A second failing reading (the cache interval rolled over) must not log again.
      const reads = nvidia.gpuQueries();
      await until('another failing reading', async () => {
        await scrape();
        return nvidia.gpuQueries() > reads ? true : undefined;
      });
      const text = await scrape();
      expect(sample(text, 'ght_gpu_up', { host: 'box' })).toBe(0);
      expect(sample(text, 'ght_gpu_power_draw_watts', { host: 'box', gpu: '0' })).toBeUndefined();
      expect(server.output().split(warning).length - 1).toBe(1);
      expect(server.output()).toContain("couldn't communicate with the NVIDIA driver");
    } finally {
      setNvidiaSmiScenario(nvidia.binDir, L40S_LOAD);
    }
    await until('ght_gpu_up 1', async () => (sample(await scrape(), 'ght_gpu_up', { host: 'box' }) === 1 ? true : undefined));
    expect(server.output().split("GPU metrics for host 'box' are back").length - 1).toBe(1);
    expect(server.output()).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace in the log
  }, 120_000); // waits for the 10 s scrape cache to roll over, several times

  it('ght_ssh_connection_state and ght_ssh_reconnects follow a drop and the reconnect', async () => {
    await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'whisper' } });
    expect(sample(await scrape(), 'ght_ssh_reconnects', { host: 'whisper' })).toBe(0);
    await sshd.stop();
    const down = await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'whisper' } });
    expect(down.status).toBeGreaterThanOrEqual(500);
    const whileDown = await scrape();
    expect(sample(whileDown, 'ght_ssh_connection_state', { host: 'whisper', state: 'connected' })).toBe(0);
    expect(
      ['failed', 'reconnecting', 'connecting'].some(
        (state) => sample(whileDown, 'ght_ssh_connection_state', { host: 'whisper', state }) === 1,
      ),
    ).toBe(true);
    await sshd.restart();
    await until('a GPU answer after the restart', async () => {
      const r = await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'whisper' } });
      return r.status === 200 ? true : undefined;
    });
    const after = await scrape();
    expect(sample(after, 'ght_ssh_connection_state', { host: 'whisper', state: 'connected' })).toBe(1);
    expect(sample(after, 'ght_ssh_reconnects', { host: 'whisper' })).toBe(1);
  });
});
