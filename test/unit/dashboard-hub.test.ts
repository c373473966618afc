/**
 * The dashboard's poller with stand-in sources and fake timers: it runs only while someone listens,
 * reads each source on its own cadence, backs off a failing one, sends a body only when it changed, and
 * goes on when a source fails or even throws.
 */
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DashboardHub, TICK_MS } from '../../src/modules/panel/dashboard-hub.js';
import type { Outcome } from '../../src/modules/panel/panel-data.js';

// Node reports an unhandled rejection once the current macrotask's microtasks are done; the fake timers
// run everything inside one, so the check waits for a real one (taken before the timers are faked).
const realSetImmediate = globalThis.setImmediate;
const nextMacrotask = () => new Promise<void>((resolve) => realSetImmediate(() => resolve()));

function setup(gpuOutcome: () => Outcome<any>, jobs: () => Promise<Outcome<any>> = async () => ({ ok: true, value: [] })) {
  const calls = { info: 0, gpu: 0, running: 0, resources: 0, jobs: 0 };
  const sources = {
    info: async () => (calls.info++, { ok: true, value: { name: 'whisper', address: 'a', reachable: true } }),
    gpuStatus: async () => (calls.gpu++, gpuOutcome()),
    charts: () => [],
    running: async () => (calls.running++, { ok: true, value: { host: 'whisper', models: [] } }),
    jobs: () => (calls.jobs++, jobs()),
    resources: async () => (calls.resources++, { ok: false, code: 'HOST_ERROR', message: 'no df' }),
  };
  const hosts = { all: () => [{ name: 'whisper' }] };
  const hub = new DashboardHub(hosts as any, sources as any);
  return { hub, calls };
}

const gpuAt = (util: number): Outcome<any> => ({
  ok: true,
  value: {
    host: 'whisper',
    driver_version: '1',
    cuda_version: '1',
    gpus: [
      {
        index: 0,
        uuid: 'GPU-0',
        name: 'G',
        utilization_percent: util,
        memory_used_mb: 1,
        memory_total_mb: 2,
        temperature_celsius: 3,
        power_draw_watts: 4,
        power_limit_watts: 5,
      },
    ],
    processes: [],
    collected_at: '2026-12-01T10:00:00.000Z',
    sampled_at: '2026-12-01T10:00:00.000Z',
  },
});

describe('DashboardHub', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 11, 1, 10, 0, 0));
  });
  afterEach(() => vi.useRealTimers());

  it('reads nothing until someone listens, and stops when the last listener leaves', async () => {
    let util = 10;
    const { hub, calls } = setup(() => gpuAt(util));
    await vi.advanceTimersByTimeAsync(5 * TICK_MS);
    expect(calls).toEqual({ info: 0, gpu: 0, running: 0, resources: 0, jobs: 0 });
    const got: string[] = [];
    const off = hub.subscribe((u) => got.push(u.html));
    await vi.advanceTimersByTimeAsync(2 * TICK_MS);
    expect(got.at(-1)).toContain('<dd data-field="utilization_percent">10 %</dd>');
    util = 55;
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(got.at(-1)).toContain('<dd data-field="utilization_percent">55 %</dd>');
    off();
    const after = { ...calls };
    await vi.advanceTimersByTimeAsync(20 * TICK_MS);
    expect(calls).toEqual(after);
    hub.onApplicationShutdown();
  });

  it('GPU every tick, models every 5 s, reachability every 10 s, disks every 30 s', async () => {
    const { hub, calls } = setup(() => gpuAt(10));
    const off = hub.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(30_000);
    // 30 s at 500 ms: ~60 GPU reads; the rest on their cadence (the first read at once).
    expect(calls.gpu).toBeGreaterThanOrEqual(55);
    expect(calls.running).toBeGreaterThanOrEqual(5);
    expect(calls.running).toBeLessThanOrEqual(7);
    expect(calls.info).toBeGreaterThanOrEqual(3);
    expect(calls.info).toBeLessThanOrEqual(4);
    expect(calls.resources).toBeLessThanOrEqual(2);
    off();
  });

  it('a failing GPU read is tried again every 5 s, not every tick, and its error is shown', async () => {
    const { hub, calls } = setup(() => ({ ok: false, code: 'GPU_UNAVAILABLE', message: 'nvidia-smi is not installed' }));
    const got: string[] = [];
    const off = hub.subscribe((u) => got.push(u.html));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls.gpu).toBeGreaterThanOrEqual(4);
    expect(calls.gpu).toBeLessThanOrEqual(5);
    expect(got.at(-1)).toContain('data-error="GPU_UNAVAILABLE"');
    off();
  });

  it('sends a body only when it changed, and a new listener gets the latest at once', async () => {
    const { hub } = setup(() => gpuAt(10));
    const first: string[] = [];
    const off1 = hub.subscribe((u) => first.push(u.html));
    // Two ticks and their reads within the first second: nothing changes after the first full body.
    await vi.advanceTimersByTimeAsync(900);
    expect(first.every((html, i) => i === 0 || html !== first[i - 1])).toBe(true);
    const full = first.findIndex((h) => h.includes('10 %'));
    expect(full).toBeGreaterThanOrEqual(0);
    expect(first.filter((h) => h === first[full])).toHaveLength(1);
    // The next second changes the stamp: one more message.
    const before = first.length;
    await vi.advanceTimersByTimeAsync(200);
    expect(first.length).toBeGreaterThan(before);
    const second: string[] = [];
    const off2 = hub.subscribe((u) => second.push(u.html));
    expect(second).toEqual([first.at(-1)]);
    off1();
    off2();
  });

  it('a failing jobs read shows its error like the other parts, and the page goes on updating', async () => {
    let util = 10;
    const { hub, calls } = setup(
      () => gpuAt(util),
      async () => ({ ok: false, code: 'INTERNAL_ERROR', message: 'The server failed unexpectedly; the details are in its log.' }),
    );
    const got: string[] = [];
    const off = hub.subscribe((u) => got.push(u.html));
    await vi.advanceTimersByTimeAsync(2 * TICK_MS);
    expect(got.at(-1)).toContain(
      '<div class="block jobs" data-part="jobs"><h3>Ollama jobs</h3><p class="error" data-error="INTERNAL_ERROR"><strong>INTERNAL_ERROR</strong> The server failed unexpectedly; the details are in its log.</p></div>',
    );
    util = 55;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(got.at(-1)).toContain('<dd data-field="utilization_percent">55 %</dd>');
    expect(got.at(-1)).toContain('data-error="INTERNAL_ERROR"');
    // Retried on the failure period (5 s), not every tick: the first read, then at 5, 10, 15, 20 s.
    expect(calls.jobs).toBeGreaterThanOrEqual(4);
    expect(calls.jobs).toBeLessThanOrEqual(5);
    off();
  });

  it('a jobs source that rejects or throws is logged, never an unhandled rejection, and the hub keeps publishing', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
    try {
      for (const jobs of [
        () => Promise.reject(new Error('job store is gone')),
        () => {
          throw new Error('job store is gone');
        },
      ]) {
        logged.mockClear();
        let util = 10;
        const { hub, calls } = setup(() => gpuAt(util), jobs);
        const got: Array<{ generated_at: string; html: string }> = [];
        const off = hub.subscribe((u) => got.push(u));
        await vi.advanceTimersByTimeAsync(2 * TICK_MS);
        expect(got.at(-1)!.html).toContain('<dd data-field="utilization_percent">10 %</dd>');
        // Never read successfully: the part says it is still reading, as before the first answer.
        expect(got.at(-1)!.html).toContain(
          '<div class="block jobs" data-part="jobs"><h3>Ollama jobs</h3><p class="muted">Reading…</p></div>',
        );
        const before = got.length;
        util = 55;
        await vi.advanceTimersByTimeAsync(10_000);
        await nextMacrotask();
        expect(unhandled).toEqual([]);
        expect(got.length).toBeGreaterThan(before);
        expect(got.at(-1)!.html).toContain('<dd data-field="utilization_percent">55 %</dd>');
        expect(Date.parse(got.at(-1)!.generated_at)).toBeGreaterThan(Date.now() - 1000);
        expect(calls.jobs).toBeGreaterThanOrEqual(2);
        expect(calls.jobs).toBeLessThanOrEqual(3);
        expect(logged).toHaveBeenCalledWith("reading jobs of host 'whisper' failed: job store is gone");
        expect(logged.mock.calls.every(([m]) => typeof m === 'string' && !/\bat .*\.(js|ts):\d+/.test(m))).toBe(true);
        off();
        hub.onApplicationShutdown();
      }
    } finally {
      process.off('unhandledRejection', onUnhandled);
      logged.mockRestore();
    }
  });
});
