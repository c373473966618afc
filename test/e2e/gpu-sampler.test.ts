/**
 * The GPU sampler and gpu_history against the built server, a private OpenSSH server (it is restarted
 * here) and the fake nvidia-smi, which logs every GPU query so the test sees what runs on the host.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFakeNvidiaSmi, setNvidiaSmiScenario, setNvidiaSmiUnknownFields } from '../support/fake-nvidia-smi.js';
import { call, startServer, type RunningServer } from '../support/server.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { sleep, until } from '../support/waiting.js';

const KEY = 'sampler-key-0123456789abcdef';
const S595 = 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load';
const S610 = 'linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04__load';
const IDLE_SECONDS = 4;

describe('GPU sampler and gpu_history', () => {
  let sshd: Sshd;
  let server: RunningServer;
  let dir: string;
  let bin: string;
  const queries = () => {
    const f = join(bin, 'queries.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
  };
  const status = async () => {
    const r = await call(server.url, 'GET', '/gpu/status', { key: KEY });
    expect(r.status).toBe(200);
    return r.body as {
      driver_version: string;
      cuda_version: string;
      collected_at: string;
      sampled_at: string;
      gpus: Array<Record<string, unknown>>;
    };
  };
  /** An answer from the sampler: taken before the call, at most 2 s before it answered. */
  const fromSample = (s: { collected_at: string; sampled_at: string }) => {
    const age = Date.parse(s.collected_at) - Date.parse(s.sampled_at);
    return age > 0 && age <= 2000;
  };

  beforeAll(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'ght-sampler-'));
    bin = join(dir, 'bin');
    installFakeNvidiaSmi(bin);
    setNvidiaSmiScenario(bin, S595);
    renameSync(join(bin, 'nvidia-smi'), join(bin, 'nvidia-smi.real'));
    writeFileSync(
      join(bin, 'nvidia-smi'),
      '#!/bin/sh\ncase "$1" in --query-gpu=*) echo q >> "$(dirname "$0")/queries.log";; esac\nexec "$(dirname "$0")/nvidia-smi.real" "$@"\n',
    );
    chmodSync(join(bin, 'nvidia-smi'), 0o755);
    writeFileSync(
      join(dir, 'config.yaml'),
      `keys:\n  admin: {key: ${KEY}, scopes: [read, write, shell]}\n` +
        `gpu: {sampler: 'on', sample_interval_ms: 500, sampler_idle_seconds: ${IDLE_SECONDS}}\n` +
        `hosts:\n  whisper:\n    transport: ssh\n    ssh: {host: ${sshd.host}, port: ${sshd.port}, user: ${sshd.username}, private_key_path: ${sshd.privateKeyPath}, known_hosts: ${sshd.knownHostsPath}}\n` +
        `    nvidia_smi_path: ${join(bin, 'nvidia-smi')}\n`,
    );
    server = await startServer({ CONFIG_FILE: join(dir, 'config.yaml') });
  });

  afterAll(async () => {
    await server?.stop();
    await sshd?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('nothing runs on the host until the first GPU call; then the sampler answers, at most 2 s old', async () => {
    await sleep(1500);
    expect(queries()).toBe(0);
    const first = await status();
    expect(first.sampled_at).toBe(first.collected_at); // no sample yet: queried now
    const sampled = await until('an answer from the sampler', async () => {
      const s = await status();
      return fromSample(s) ? s : undefined;
    });
    expect(sampled.gpus[0]).toMatchObject({ name: 'NVIDIA GeForce RTX 2080 SUPER', memory_used_mb: 819, clocks_graphics_mhz: 2055 });
    expect(sampled.cuda_version).toBe('13.2');
    // The sampler keeps querying without calls: about two readings a second.
    const before = queries();
    await sleep(2000);
    expect(queries() - before).toBeGreaterThanOrEqual(2);
  });

  it('answers built from one sample carry their own collected_at, and a newer sample gives a newer answer', async () => {
    const [a, b] = await until('two answers from the same sample', async () => {
      const x = await status();
      await sleep(20);
      const y = await status();
      return fromSample(x) && fromSample(y) && x.sampled_at === y.sampled_at ? [x, y] : undefined;
    });
    expect(Date.parse(b.collected_at)).toBeGreaterThan(Date.parse(a.collected_at));
    const { collected_at: _a, ...restA } = a;
    const { collected_at: _b, ...restB } = b;
    expect(restB).toEqual(restA);
    await sleep(1200); // more than two sample intervals
    const later = await status();
    expect(fromSample(later)).toBe(true);
    expect(Date.parse(later.sampled_at)).toBeGreaterThan(Date.parse(b.sampled_at));
  });

  it('gpu_history: statistics of the sampled readings over the window, per GPU (one driver so far)', async () => {
    await until('a sampled answer', async () => ((s) => (fromSample(s) ? s : undefined))(await status()));
    const r = await call(server.url, 'GET', '/gpu/history', { key: KEY, query: { window_minutes: '1' } });
    expect(r.status).toBe(200);
    const h = r.body as {
      host: string;
      from: string;
      to: string;
      resolution_seconds: number;
      gpus: Array<{ index: number; samples: number; utilization_percent: unknown; memory_used_mb: unknown; top_processes: unknown[] }>;
    };
    expect(h.host).toBe('whisper');
    expect(Date.parse(h.to) - Date.parse(h.from)).toBe(60_000);
    expect(h.resolution_seconds).toBe(0.5);
    expect(h.gpus).toHaveLength(1);
    expect(h.gpus[0].samples).toBeGreaterThan(2);
    expect(h.gpus[0].utilization_percent).toEqual({ min: 8, avg: 8, max: 8 });
    expect(h.gpus[0].memory_used_mb).toEqual({ min: 819, avg: 819, max: 819 });
    expect(h.gpus[0].top_processes).toEqual([
      { pid: 5268, process_name: 'ffmpeg', used_memory_mb: 370 },
      { pid: 5267, process_name: 'ffmpeg', used_memory_mb: 230 },
    ]);
    const other = await call(server.url, 'GET', '/gpu/history', { key: KEY, query: { gpu_index: '3' } });
    expect(other.status).toBe(200);
    expect((other.body as { gpus: unknown[] }).gpus).toEqual([]);
  });

  it('gpu_history with points: a series of that many span means per GPU, and the seconds per span', async () => {
    await until('a sampled answer', async () => ((s) => (fromSample(s) ? s : undefined))(await status()));
    const r = await call(server.url, 'GET', '/gpu/history', { key: KEY, query: { window_minutes: '2', points: '4' } });
    expect(r.status).toBe(200);
    const h = r.body as {
      series_step_seconds: number;
      gpus: Array<{ series: { utilization_percent: Array<number | null>; memory_used_mb: Array<number | null> } }>;
    };
    expect(h.series_step_seconds).toBe(30);
    const { utilization_percent, memory_used_mb } = h.gpus[0].series;
    expect(utilization_percent).toHaveLength(4);
    expect(memory_used_mb).toHaveLength(4);
    // The server sampled only lately: the newest span has the fixture's readings, older ones may be empty.
    expect(utilization_percent[3]).toBe(8);
    expect(memory_used_mb[3]).toBe(819);
    for (const v of [...utilization_percent, ...memory_used_mb]) expect(v === null || typeof v === 'number').toBe(true);
  });

  it('stops after the idle period without GPU calls', async () => {
    await status();
    // Idle: no calls for IDLE_SECONDS, then the query count must stand still.
    await until(
      'the sampler to stop',
      async () => {
        const a = queries();
        await sleep(1500);
        return queries() === a ? true : undefined;
      },
      IDLE_SECONDS * 1000 + 20_000,
    );
    expect(server.output()).toContain(`GPU sampler on host 'whisper' stopped after ${IDLE_SECONDS} s without a GPU call`);
    expect(server.output()).not.toMatch(/gpu-host-tools:sample/); // the command itself is never logged
  }, 90_000);

  it('restarts after sshd is restarted (the connection dropped under it)', async () => {
    await until('a sampled answer', async () => ((s) => (fromSample(s) ? s : undefined))(await status()));
    const logBefore = server.output().length;
    await sshd.stop();
    await sleep(1000);
    await sshd.restart();
    // Calls keep sampling wanted; within 30 s answers come from the sampler again, on the new connection.
    const s = await until('a sampled answer after the restart', async () => {
      const r = await call(server.url, 'GET', '/gpu/status', { key: KEY });
      if (r.status !== 200) return undefined; // the drop may fail one call; it names the host
      const body = r.body as { collected_at: string; sampled_at: string };
      return fromSample(body) ? body : undefined;
    });
    expect(s).toBeDefined();
    expect(server.output().slice(logBefore)).toContain("GPU sampler on host 'whisper' stopped: ");
    const before = queries();
    await sleep(1500);
    expect(queries()).toBeGreaterThan(before);
  }, 90_000);

  it('relearns after a driver change and samples the new driver (versions and fields)', async () => {
    await until('a sampled answer', async () => ((s) => (fromSample(s) ? s : undefined))(await status()));
    setNvidiaSmiScenario(bin, S610);
    try {
      const s = await until('a sampled answer from driver 610', async () => {
        const b = await status();
        return b.driver_version === '610.57.04' && fromSample(b) ? b : undefined;
      });
      expect(s.cuda_version).toBe('13.3');
      expect(s.gpus[0].clocks_graphics_mhz).toBe(2070);
      expect(server.output()).toContain("GPU driver on host 'whisper' changed from 595.71.05 to 610.57.04");
    } finally {
      setNvidiaSmiScenario(bin, S595);
    }
  });

  it('an older driver that refuses fields: every answer stays 200, the unknown fields become null', async () => {
    await until('a sampled answer', async () =>
      ((s) => (fromSample(s) && s.driver_version === '595.71.05' ? s : undefined))(await status()),
    );
    setNvidiaSmiUnknownFields(bin, ['fan.speed', 'clocks_event_reasons.active', 'pcie.link.gen.current']);
    try {
      const codes = new Set<number>();
      const s = await until('a sampled answer without the refused fields', async () => {
        const r = await call(server.url, 'GET', '/gpu/status', { key: KEY });
        codes.add(r.status);
        const b = r.body as { collected_at: string; sampled_at: string; gpus: Array<Record<string, unknown>> };
        return r.status === 200 && fromSample(b) && b.gpus[0].fan_speed_percent === null ? b : undefined;
      });
      expect([...codes]).toEqual([200]);
      // The old throttle name answers where the new one is unknown; the rest of the reading is whole.
      expect(s.gpus[0]).toMatchObject({
        fan_speed_percent: null,
        pcie_generation: null,
        throttle_reasons: [],
        pcie_width: 16,
        memory_used_mb: 819,
      });
    } finally {
      setNvidiaSmiUnknownFields(bin, []);
    }
  });

  it('gpu_history refuses bad windows and indexes with 400 naming the field', async () => {
    for (const query of <Record<string, string>[]>[
      { window_minutes: '0' },
      { window_minutes: '1441' },
      { window_minutes: '2.5' },
      { window_minutes: 'ten' },
      { gpu_index: '-1' },
      { gpu_index: '1e3' },
      { points: '1' },
      { points: '61' },
      { window: '10' },
    ]) {
      const r = await call(server.url, 'GET', '/gpu/history', { key: KEY, query });
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect((r.body as { message: string }).message).toContain(Object.keys(query)[0]);
    }
  });

  it('gives its channel to queued shell calls and takes it back once they are done', async () => {
    // A second host on the same sshd with two channels: the sampler holds one, so a burst of shell
    // calls queues, and the sampler must step aside instead of halving their throughput.
    const cfg = join(dir, 'two-channels.yaml');
    writeFileSync(cfg, readFileSync(join(dir, 'config.yaml'), 'utf8').replace('known_hosts: ', 'max_channels: 2, known_hosts: '));
    const narrow = await startServer({ CONFIG_FILE: cfg });
    // The sampler's shell loop on the host, found by the marker in its command line.
    const samplers = () => {
      try {
        return execFileSync('pgrep', ['-f', '-u', String(process.getuid?.() ?? 0), `${bin}/nvidia-smi.*sample@@`], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean).length;
      } catch {
        return 0; // pgrep exits 1 when nothing matches
      }
    };
    try {
      await server.stop(); // only the narrow server samples now
      await until('the narrow server sampling', async () => {
        const r = await call(narrow.url, 'GET', '/gpu/status', { key: KEY });
        const b = r.body as { collected_at: string; sampled_at: string };
        return r.status === 200 && fromSample(b) ? true : undefined;
      });
      expect(samplers()).toBeGreaterThan(0);
      const burst = Promise.all(
        Array.from({ length: 6 }, () => call(narrow.url, 'POST', '/shell/exec', { key: KEY, body: { command: 'sleep 2; echo done' } })),
      );
      await until('the sampler to step aside', async () => (samplers() === 0 ? true : undefined), 20_000);
      const results = await burst;
      for (const r of results) expect(r.body).toMatchObject({ exit_code: 0, stdout: 'done\n' });
      await call(narrow.url, 'GET', '/gpu/status', { key: KEY });
      await until('the sampler back', async () => (samplers() > 0 ? true : undefined), 20_000);
    } finally {
      await narrow.stop();
    }
  }, 90_000);
});
