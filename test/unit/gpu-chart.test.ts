/** GPU history as chart series (the dashboard's and panels' charts), driven by a made-up clock. */
import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../src/modules/gpu/dto/gpu.dto.js';
import { HostGpuHistory } from '../../src/modules/gpu/gpu-history.js';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const S = 1000;

const gpu = (index: number, values: Partial<GpuInfo>): GpuInfo =>
  ({
    index,
    uuid: `GPU-${index}`,
    name: 'NVIDIA GeForce RTX 2080 SUPER',
    utilization_percent: null,
    memory_used_mb: null,
    memory_total_mb: 8192,
    temperature_celsius: null,
    power_draw_watts: null,
    power_limit_watts: 250,
    ...values,
  }) as GpuInfo;

describe('HostGpuHistory.chart', () => {
  it('averages each metric per bucket, keeps bucket start times, and leaves buckets without readings out', () => {
    const h = new HostGpuHistory(1000);
    // Bucket 0 (0-14 s): 10 and 30 % -> 20; bucket 1 empty; bucket 2 (30-44 s): 90 %.
    h.add(T0 + 1 * S, [gpu(0, { utilization_percent: 10, memory_used_mb: 1000, temperature_celsius: 40, power_draw_watts: 50 })], []);
    h.add(T0 + 5 * S, [gpu(0, { utilization_percent: 30, memory_used_mb: 3000, temperature_celsius: 50, power_draw_watts: 70 })], []);
    h.add(T0 + 31 * S, [gpu(0, { utilization_percent: 90, memory_used_mb: 7000, temperature_celsius: 70, power_draw_watts: 200.25 })], []);
    const [c] = h.chart(T0 + 45 * S, 45 * S, 15 * S);
    expect(c.times).toEqual([T0, T0 + 30 * S]);
    expect(c.utilization_percent).toEqual([20, 90]);
    expect(c.memory_used_mb).toEqual([2000, 7000]);
    expect(c.temperature_celsius).toEqual([45, 70]);
    expect(c.power_draw_watts).toEqual([60, 200.25]);
    expect(c).toMatchObject({ index: 0, uuid: 'GPU-0', name: 'NVIDIA GeForce RTX 2080 SUPER' });
  });

  it('a metric the GPU does not report is null in its bucket, not zero (the chart shows a gap)', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0 + S, [gpu(0, { utilization_percent: 40, power_draw_watts: null })], []);
    const [c] = h.chart(T0 + 10 * S, 10 * S, 5 * S);
    expect(c.utilization_percent).toEqual([40]);
    expect(c.power_draw_watts).toEqual([null]);
    expect(c.memory_used_mb).toEqual([null]);
  });

  it('only readings inside the window count; GPUs come in index order; a GPU with none in the window is left out', () => {
    const h = new HostGpuHistory(1000);
    h.add(T0, [gpu(1, { utilization_percent: 5 }), gpu(0, { utilization_percent: 1 })], []);
    h.add(T0 + 100 * S, [gpu(1, { utilization_percent: 50 })], []);
    const charts = h.chart(T0 + 110 * S, 20 * S, 10 * S);
    expect(charts.map((c) => c.index)).toEqual([1]);
    expect(charts[0].utilization_percent).toEqual([50]);
    const all = h.chart(T0 + 110 * S, 200 * S, 10 * S);
    expect(all.map((c) => c.index)).toEqual([0, 1]);
    expect(all[1].utilization_percent).toEqual([5, 50]);
  });

  it('an hour of one-second readings makes at most 240 points in 15 s buckets', () => {
    const h = new HostGpuHistory(1000);
    for (let i = 0; i < 3600; i++) h.add(T0 + i * S, [gpu(0, { utilization_percent: i % 100 })], []);
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
