/** The history ring buffers and the chart series read from them, driven by a made-up clock (no timers, no waiting). */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { GpuInfo, GpuProcess } from '../../src/modules/gpu/dto/gpu.dto.js';
import { HostGpuHistory, MAX_GPUS_PER_HOST } from '../../src/modules/gpu/gpu-history.js';
import { COARSE_SLOTS, FINE_SLOTS } from '../../src/modules/gpu/gpu-series.js';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const S = 1000;
const MIN = 60_000;

function gpu(index: number, util: number | null, extra: Partial<GpuInfo> = {}): GpuInfo {
  return {
    index,
    uuid: `GPU-${index}`,
    name: 'NVIDIA GeForce GTX 1080 Ti',
    utilization_percent: util,
    memory_used_mb: util === null ? null : util * 10,
    memory_total_mb: 11264,
    memory_free_mb: null,
    temperature_celsius: 40 + (util ?? 0) / 10,
    power_draw_watts: 50 + (util ?? 0),
    power_limit_watts: 250,
    fan_speed_percent: null,
    clocks_graphics_mhz: null,
    clocks_memory_mhz: null,
    clocks_max_graphics_mhz: null,
    throttle_reasons: null,
    pcie_generation: null,
    pcie_width: null,
    ecc_errors_uncorrected: null,
    encoder_percent: null,
    decoder_percent: null,
    persistence_mode: null,
    compute_mode: null,
    mig_mode: null,
    ...extra,
  };
}

const proc = (index: number, pid: number, mb: number, name = 'ollama'): GpuProcess => ({
  gpu_index: index,
  gpu_uuid: `GPU-${index}`,
  pid,
  process_name: name,
  used_memory_mb: mb,
});

describe('HostGpuHistory, fine (last hour)', () => {
  it('min/avg/max, samples and time above 90 % over exactly the window', () => {
    const h = new HostGpuHistory(1000);
    // 20 minutes at 1 s: utilization 10 for the first 10 minutes, then 95.
    for (let i = 0; i < 1200; i++) h.add(T0 + i * S, [gpu(0, i < 600 ? 10 : 95)], []);
    const now = T0 + 1199 * S;
    const last10 = h.window(now, 10 * MIN).gpus[0];
    expect(last10.samples).toBe(601); // both ends included
    expect(last10.utilization_percent).toEqual({ min: 10, avg: expect.closeTo((600 * 95 + 10) / 601, 2), max: 95 });
    expect(last10.seconds_above_90_percent).toBe(600);
    const last5 = h.window(now, 5 * MIN).gpus[0];
    expect(last5.utilization_percent).toEqual({ min: 95, avg: 95, max: 95 });
    expect(last5.memory_used_mb).toEqual({ min: 950, avg: 950, max: 950 });
    expect(last5.power_draw_watts).toEqual({ min: 145, avg: 145, max: 145 });
    expect(h.window(now, 20 * MIN).gpus[0].seconds_above_90_percent).toBe(600);
    expect(h.window(now, 10 * MIN)).toMatchObject({ from: now - 10 * MIN, to: now, resolution_seconds: 1 });
  });

  it('a gap in sampling is not time at the last value: each reading stands for at most two intervals', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0, [gpu(0, 100)], []);
    h.add(T0 + 300 * S, [gpu(0, 100)], []); // five minutes without readings
    expect(h.window(T0 + 300 * S, 10 * MIN).gpus[0].seconds_above_90_percent).toBe(4);
  });

  it('nulls are left out of the statistics, not counted as 0; a GPU with only nulls has null stats', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0, [gpu(0, null), gpu(1, null)], []);
    h.add(T0 + S, [gpu(0, 50), gpu(1, null)], []);
    const [g0, g1] = h.window(T0 + S, MIN).gpus;
    expect(g0.utilization_percent).toEqual({ min: 50, avg: 50, max: 50 });
    expect(g0.samples).toBe(2);
    expect(g1.utilization_percent).toEqual({ min: null, avg: null, max: null });
  });

  it('readings older than the ring are gone: the fine ring holds FINE_SLOTS readings', () => {
    const h = new HostGpuHistory(1000);
    for (let i = 0; i < FINE_SLOTS + 500; i++) h.add(T0 + i * S, [gpu(0, i < 500 ? 100 : 0)], []);
    const now = T0 + (FINE_SLOTS + 499) * S;
    const hour = h.window(now, 60 * MIN).gpus[0];
    expect(hour.samples).toBe(FINE_SLOTS);
    expect(hour.utilization_percent.max).toBe(0); // the busy first 500 s were overwritten
  });

  it('ignores readings that go back in time (a clock step) instead of corrupting the ring', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0 + 10 * S, [gpu(0, 10)], []);
    h.add(T0 + 5 * S, [gpu(0, 99)], []);
    h.add(T0 + 10 * S, [gpu(0, 99)], []);
    expect(h.window(T0 + 10 * S, MIN).gpus[0]).toMatchObject({ samples: 1, utilization_percent: { max: 10 } });
  });

  it('filters one GPU by index, orders GPUs by index, and leaves out GPUs with no reading in the window', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0, [gpu(2, 20), gpu(0, 0)], []);
    h.add(T0 + 30 * MIN, [gpu(0, 5)], []);
    expect(h.window(T0 + 30 * MIN, 60 * MIN).gpus.map((g) => g.index)).toEqual([0, 2]);
    expect(h.window(T0 + 30 * MIN, 10 * MIN).gpus.map((g) => g.index)).toEqual([0]);
    expect(h.window(T0 + 30 * MIN, 60 * MIN, 2).gpus.map((g) => g.index)).toEqual([2]);
    expect(h.window(T0 + 30 * MIN, 60 * MIN, 7).gpus).toEqual([]);
  });

  it('top processes: each process once with its peak memory, most memory first, at most 5, per GPU', () => {
    const h = new HostGpuHistory(1000);
    for (let i = 0; i < 120; i++) {
      const procs = [proc(0, 100, 1000 + i), proc(0, 200, 500), proc(1, 300, 9000)];
      for (let p = 0; p < 6; p++) procs.push(proc(0, 1000 + p, 10 + p, `worker,${p}`));
      h.add(T0 + i * S, [gpu(0, 50), gpu(1, 50)], procs);
    }
    const [g0, g1] = h.window(T0 + 119 * S, 10 * MIN).gpus;
    expect(g0.top_processes[0]).toEqual({ pid: 100, process_name: 'ollama', used_memory_mb: 1119 });
    expect(g0.top_processes[1]).toEqual({ pid: 200, process_name: 'ollama', used_memory_mb: 500 });
    expect(g0.top_processes.length).toBeLessThanOrEqual(5);
    expect(g0.top_processes.some((p) => p.pid === 300)).toBe(false);
    expect(g1.top_processes).toEqual([{ pid: 300, process_name: 'ollama', used_memory_mb: 9000 }]);
  });
});

describe('HostGpuHistory, coarse (beyond an hour: one-minute aggregates)', () => {
  it('a 24-hour window uses minute aggregates whose min/avg/max/busy time equal the readings', () => {
    const h = new HostGpuHistory(1000);
    // 3 hours at 1 s: hour 1 idle (0), hour 2 busy (100), hour 3 at 50.
    for (let i = 0; i < 3 * 3600; i++) h.add(T0 + i * S, [gpu(0, i < 3600 ? 0 : i < 7200 ? 100 : 50)], []);
    const now = T0 + (3 * 3600 - 1) * S;
    const day = h.window(now, 1440 * MIN);
    expect(day.resolution_seconds).toBe(60);
    const g = day.gpus[0];
    expect(g.samples).toBe(3 * 3600);
    expect(g.utilization_percent).toEqual({ min: 0, avg: 50, max: 100 });
    expect(g.seconds_above_90_percent).toBe(3600);
    // 2 hours back from the end: the busy hour and the 50 % hour (minute-aligned window start).
    const two = h.window(now, 120 * MIN).gpus[0];
    expect(two.utilization_percent.min).toBe(50);
    expect(two.utilization_percent.max).toBe(100);
    expect(two.seconds_above_90_percent).toBeGreaterThanOrEqual(3599);
  });

  it('keeps 24 hours of minutes and no more', () => {
    const h = new HostGpuHistory(60_000); // one reading a minute keeps the test short
    const minutes = COARSE_SLOTS + 120;
    for (let i = 0; i < minutes; i++) h.add(T0 + i * MIN, [gpu(0, i < 119 ? 100 : 10)], []);
    const now = T0 + (minutes - 1) * MIN;
    const g = h.window(now, 1440 * MIN).gpus[0];
    // The window [now - 24 h, now] holds 1441 minute starts: 1440 closed minutes and the current one.
    expect(g.samples).toBe(COARSE_SLOTS + 1);
    expect(g.utilization_percent.max).toBe(10); // the busy first 119 minutes are gone
    expect(h.window(now + 30 * MIN, 1440 * MIN).gpus[0].samples).toBe(COARSE_SLOTS + 1 - 30);
  });
});

describe('HostGpuHistory.window with points (the short series)', () => {
  it('fine: one mean per equal span, oldest first, with the readings of that span', () => {
    const h = new HostGpuHistory(1000);
    // 10 minutes at 1 s: utilization is the minute number (0..9).
    for (let i = 0; i < 600; i++) h.add(T0 + i * S, [gpu(0, Math.floor(i / 60))], []);
    const now = T0 + 600 * S; // window [T0, T0 + 10 min]
    const w = h.window(now, 10 * MIN, undefined, 5);
    const series = w.gpus[0].series!;
    expect(series.utilization_percent).toEqual([0.5, 2.5, 4.5, 6.5, 8.5]);
    expect(series.memory_used_mb).toEqual([5, 25, 45, 65, 85]);
    // Without points, no series: the default answer does not grow.
    expect(h.window(now, 10 * MIN).gpus[0].series).toBeUndefined();
  });

  it('fine: a span without readings is null, and the series keeps its length', () => {
    const h = new HostGpuHistory(1000);
    for (let i = 0; i < 60; i++) h.add(T0 + i * S, [gpu(0, 40)], []);
    for (let i = 540; i < 600; i++) h.add(T0 + i * S, [gpu(0, 80)], []);
    const series = h.window(T0 + 600 * S, 10 * MIN, undefined, 10).gpus[0].series!;
    expect(series.utilization_percent).toEqual([40, null, null, null, null, null, null, null, null, 80]);
  });

  it('coarse: beyond an hour the spans come from the minute aggregates, means of the readings', () => {
    const h = new HostGpuHistory(1000);
    // 3 hours at 1 s: hour 1 at 0, hour 2 at 100, hour 3 at 50.
    for (let i = 0; i < 3 * 3600; i++) h.add(T0 + i * S, [gpu(0, i < 3600 ? 0 : i < 7200 ? 100 : 50)], []);
    const now = T0 + 3 * 3600 * S;
    const w = h.window(now, 180 * MIN, undefined, 3);
    expect(w.resolution_seconds).toBe(60);
    expect(w.gpus[0].series!.utilization_percent).toEqual([0, 100, 50]);
    const six = h.window(now, 180 * MIN, undefined, 6).gpus[0].series!;
    expect(six.utilization_percent).toEqual([0, 0, 100, 100, 50, 50]);
  });

  it('a GPU that reports no memory figure has nulls in that series, not zeros', () => {
    const h = new HostGpuHistory(1000);
    for (let i = 0; i < 120; i++) h.add(T0 + i * S, [gpu(0, 30, { memory_used_mb: null })], []);
    const series = h.window(T0 + 120 * S, 2 * MIN, undefined, 2).gpus[0].series!;
    expect(series.utilization_percent).toEqual([30, 30]);
    expect(series.memory_used_mb).toEqual([null, null]);
  });
});

describe('HostGpuHistory memory', () => {
  it('caps the GPUs kept per host', () => {
    const h = new HostGpuHistory(1000);
    const many = Array.from({ length: MAX_GPUS_PER_HOST + 10 }, (_, i) => gpu(i, 1));
    h.add(T0, many, []);
    expect(h.window(T0, MIN).gpus).toHaveLength(MAX_GPUS_PER_HOST);
  });

  it('keeps names from a hostile host short, and ignores GPUs whose UUID is absurdly long', () => {
    const h = new HostGpuHistory(1000);
    const huge = 'x'.repeat(100_000);
    h.add(T0, [gpu(0, 1, { name: huge }), gpu(1, 1, { uuid: huge })], [proc(0, 1, 10, huge)]);
    const gpus = h.window(T0, MIN).gpus;
    expect(gpus).toHaveLength(1);
    expect(gpus[0].name).toHaveLength(256);
    expect(gpus[0].top_processes[0].process_name).toHaveLength(256);
  });

  it('24 hours of 1-s readings for 8 GPUs with processes stays within 8 MB of heap (measured)', () => {
    // A full collection before each measurement, so the figure is what the history keeps, not garbage.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage();
    const h = new HostGpuHistory(1000);
    const gpus = Array.from({ length: 8 }, (_, i) => gpu(i, 50));
    for (let i = 0; i < 24 * 3600; i++) {
      const procs = gpus.flatMap((g) => [proc(g.index, 1000 + (i % 7), 100 + (i % 50)), proc(g.index, 2000 + (i % 11), 50)]);
      h.add(T0 + i * S, gpus, procs);
    }
    gc();
    const after = process.memoryUsage();
    // Typed arrays live outside the JS heap; their size is fixed, so it is read from the arrays rather
    // than from the process's arrayBuffers figure, which moves with whatever else is freed meanwhile.
    const buffers = h.bufferBytes();
    const heap = after.heapUsed - before.heapUsed;
    console.log(
      `history for 8 GPUs over 24 h: ${((heap + buffers) / 1e6).toFixed(2)} MB (heap ${(heap / 1e6).toFixed(2)}, buffers ${(buffers / 1e6).toFixed(2)})`,
    );
    expect(buffers).toBeGreaterThanOrEqual(8 * (3600 * 28 + 1440 * 96));
    expect(heap + buffers).toBeLessThan(8e6);
    expect(h.window(T0 + (24 * 3600 - 1) * S, 1440 * MIN).gpus).toHaveLength(8);
  });
});

describe('HostGpuHistory.chart', () => {
  it('averages each metric per bucket, keeps bucket start times, and leaves buckets without readings out', () => {
    const h = new HostGpuHistory(1000);
    // Bucket 0 (0-14 s): 10 and 30 % -> 20; bucket 1 empty; bucket 2 (30-44 s): 90 %.
    h.add(T0 + 1 * S, [gpu(0, 10, { memory_used_mb: 1000, temperature_celsius: 40, power_draw_watts: 50 })], []);
    h.add(T0 + 5 * S, [gpu(0, 30, { memory_used_mb: 3000, temperature_celsius: 50, power_draw_watts: 70 })], []);
    h.add(T0 + 31 * S, [gpu(0, 90, { memory_used_mb: 7000, temperature_celsius: 70, power_draw_watts: 200.25 })], []);
    const [c] = h.chart(T0 + 45 * S, 45 * S, 15 * S);
    expect(c.times).toEqual([T0, T0 + 30 * S]);
    expect(c.utilization_percent).toEqual([20, 90]);
    expect(c.memory_used_mb).toEqual([2000, 7000]);
    expect(c.temperature_celsius).toEqual([45, 70]);
    expect(c.power_draw_watts).toEqual([60, 200.25]);
    expect(c).toMatchObject({ index: 0, uuid: 'GPU-0', name: 'NVIDIA GeForce GTX 1080 Ti' });
  });

  it('a metric the GPU does not report is null in its bucket, not zero (the chart shows a gap)', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0 + S, [gpu(0, 40, { power_draw_watts: null, memory_used_mb: null })], []);
    const [c] = h.chart(T0 + 10 * S, 10 * S, 5 * S);
    expect(c.utilization_percent).toEqual([40]);
    expect(c.power_draw_watts).toEqual([null]);
    expect(c.memory_used_mb).toEqual([null]);
  });

  it('only readings inside the window count; GPUs come in index order; a GPU with none in the window is left out', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0, [gpu(1, 5), gpu(0, 1)], []);
    h.add(T0 + 100 * S, [gpu(1, 50)], []);
    const charts = h.chart(T0 + 110 * S, 20 * S, 10 * S);
    expect(charts.map((c) => c.index)).toEqual([1]);
    expect(charts[0].utilization_percent).toEqual([50]);
    const all = h.chart(T0 + 110 * S, 200 * S, 10 * S);
    expect(all.map((c) => c.index)).toEqual([0, 1]);
    expect(all[1].utilization_percent).toEqual([5, 50]);
  });

  it('an hour of one-second readings makes at most 240 points in 15 s buckets', () => {
    const h = new HostGpuHistory(1000);
    for (let i = 0; i < 3600; i++) h.add(T0 + i * S, [gpu(0, i % 100)], []);
    const [c] = h.chart(T0 + 3600 * S, 3600 * S, 15 * S);
    expect(c.times.length).toBeLessThanOrEqual(241);
    expect(c.times.length).toBeGreaterThanOrEqual(239);
    // Buckets are ascending and 15 s apart.
    expect(c.times.every((t, i) => i === 0 || t - c.times[i - 1] === 15 * S)).toBe(true);
  });

  it('no history: no series', () => {
    expect(new HostGpuHistory(1000).chart(T0, 3600 * S, 15 * S)).toEqual([]);
  });
});
