/**
 * gpu_status and gpu_history answers cut to the host's answer size (gpu-answer-size.ts): every real
 * capture passes unchanged; hosts built from a capture with many GPUs and processes, and hostile
 * ones, come out within the budget with whole GPUs from the first, each GPU's largest processes, and
 * a note that names exactly what was left out.
 */
import { describe, expect, it } from 'vitest';
import type { GpuHistoryGpu, GpuHistoryResult, GpuProcess, GpuStatusResult } from '../../src/modules/gpu/dto/gpu.dto.js';
import { fitGpuHistory, fitGpuStatus, indexRanges } from '../../src/modules/gpu/gpu-answer-size.js';
import { jsonBytes } from '../../src/common/result-budget.js';
import { CAPTURE_STATES, captureStatus } from '../support/nvidia-smi-output.js';

const BUDGET = 12 * 1024;
const H100 = 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01';

function answer(status: ReturnType<typeof captureStatus>): GpuStatusResult {
  const { query_driver_version: _, ...reading } = status;
  return { host: 'whisper', ...reading, collected_at: '2026-12-01T08:00:00.000Z', sampled_at: '2026-12-01T08:00:00.000Z' };
}

/** `gpus` copies of the H100 capture's GPU, each with `perGpu` processes of varied sizes. */
function bigStatus(gpus: number, perGpu: number): GpuStatusResult {
  const base = answer(captureStatus(H100, 'load'));
  const uuid = (i: number) => `GPU-00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
  return {
    ...base,
    gpus: Array.from({ length: gpus }, (_, i) => ({ ...base.gpus[0], index: i, uuid: uuid(i) })),
    processes: Array.from({ length: gpus * perGpu }, (_, k) => ({
      ...base.processes[k % base.processes.length],
      gpu_index: Math.floor(k / perGpu),
      gpu_uuid: uuid(Math.floor(k / perGpu)),
      pid: 20_000 + k,
      used_memory_mb: ((k * 7919) % 997) + 1,
    })),
  };
}

/** What every cut gpu_status answer must be, whatever it was cut from. */
function checkStatusCut(full: GpuStatusResult, cut: GpuStatusResult, budget: number): void {
  expect(jsonBytes(cut)).toBeLessThanOrEqual(budget);
  expect(cut.note).toBeTruthy();
  expect(cut.gpus.length).toBeGreaterThan(0);
  // Whole GPUs from the first.
  expect(cut.gpus).toEqual(full.gpus.slice(0, cut.gpus.length));
  // Processes in their order, only while every GPU is shown, each GPU's largest.
  expect(cut.processes).toEqual(full.processes.filter((p) => cut.processes.includes(p)));
  if (cut.gpus.length < full.gpus.length) {
    expect(cut.processes).toEqual([]);
    const gone = full.gpus.slice(cut.gpus.length).map((g) => g.index);
    expect(cut.note).toContain(`GPUs ${indexRanges(gone)} (${gone.length} of ${full.gpus.length})`);
    expect(cut.note).toContain(`gpu_index (e.g. ${gone[0]})`);
  } else {
    const left = full.processes.length - cut.processes.length;
    expect(left).toBeGreaterThan(0);
    expect(cut.note).toContain(`${left} of ${full.processes.length} processes`);
    for (const g of full.gpus) {
      const mine = (list: GpuProcess[]) => list.filter((p) => p.gpu_uuid === g.uuid);
      const kept = mine(cut.processes);
      const smallestKept = Math.min(...kept.map((p) => p.used_memory_mb ?? -1));
      const dropped = mine(full.processes).filter((p) => !kept.includes(p));
      for (const p of dropped) expect(p.used_memory_mb ?? -1).toBeLessThanOrEqual(smallestKept);
    }
  }
  expect(cut.note).toContain('gpu_history with gpu_index');
  expect(cut.note).toContain('results.default_max_bytes');
}

describe('fitGpuStatus', () => {
  it.each(CAPTURE_STATES)('leaves the answer of a real capture alone (%s, %s)', (capture, state) => {
    const full = answer(captureStatus(capture, state));
    const copy = structuredClone(full);
    const fitted = fitGpuStatus(full, BUDGET);
    expect(fitted).toBe(full);
    expect(fitted).toEqual(copy);
    expect(JSON.stringify(fitted)).not.toContain('note');
  });

  it.each([
    [1, 0],
    [1, 10],
    [8, 0],
    [8, 10],
    [16, 10],
    [32, 0],
    [32, 10],
    [4, 60],
  ])('%i GPUs with %i processes each: within 12 KiB, cut only as far as needed', (gpus, perGpu) => {
    const full = bigStatus(gpus, perGpu);
    const copy = structuredClone(full);
    const cut = fitGpuStatus(full, BUDGET);
    expect(full).toEqual(copy); // the reading itself (shared with the sampler) is not changed
    if (cut === full) {
      expect(jsonBytes(full)).toBeLessThanOrEqual(BUDGET);
      return;
    }
    checkStatusCut(full, cut, BUDGET);
  });

  it('keeps more for a host whose answer size is larger, and everything when it is large enough', () => {
    const full = bigStatus(32, 10);
    const small = fitGpuStatus(full, BUDGET);
    const larger = fitGpuStatus(full, 4 * BUDGET);
    checkStatusCut(full, small, BUDGET);
    checkStatusCut(full, larger, 4 * BUDGET);
    expect(small.gpus.length).toBeLessThan(32);
    expect(larger.gpus).toHaveLength(32);
    expect(larger.processes.length).toBeGreaterThan(0);
    expect(fitGpuStatus(full, 2 * jsonBytes(full))).toBe(full);
  });

  it('cuts processes only when every GPU fits, and says how many stay', () => {
    const full = bigStatus(8, 10);
    const cut = fitGpuStatus(full, BUDGET);
    expect(cut.gpus).toHaveLength(8);
    expect(cut.processes.length).toBeGreaterThan(0);
    // Every GPU keeps about as many as the others (rounds), at least its largest.
    const counts = full.gpus.map((g) => cut.processes.filter((p) => p.gpu_uuid === g.uuid).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    checkStatusCut(full, cut, BUDGET);
  });

  it('hostile readings: 20,000 processes on one GPU, processes of unlisted GPUs, no memory figures, the smallest budget', () => {
    const full = bigStatus(2, 0);
    full.processes = Array.from({ length: 20_000 }, (_, k) => ({
      gpu_index: k % 3 === 2 ? null : 0,
      gpu_uuid: k % 3 === 2 ? 'GPU-not-listed' : full.gpus[0].uuid,
      pid: k,
      process_name: `p${k}`,
      used_memory_mb: k % 5 === 0 ? null : k % 1000,
    }));
    for (const budget of [4096, BUDGET]) {
      const cut = fitGpuStatus(full, budget);
      checkStatusCut(full, cut, budget);
      expect(cut.gpus).toHaveLength(2);
      // Processes without a memory figure are left out before any with one.
      const kept = cut.processes.filter((p) => p.gpu_uuid === full.gpus[0].uuid);
      expect(kept.every((p) => p.used_memory_mb !== null)).toBe(true);
    }
  });

  it('keeps the first GPU even when it alone is larger than the budget', () => {
    const full = bigStatus(3, 1);
    full.gpus = full.gpus.map((g) => ({ ...g, throttle_reasons: Array.from({ length: 400 }, () => 'sw_power_cap') }));
    const cut = fitGpuStatus(full, 4096);
    expect(cut.gpus).toEqual(full.gpus.slice(0, 1));
    expect(cut.note).toContain('GPUs 1-2 (2 of 3)');
  });
});

function historyGpu(index: number, processes: number): GpuHistoryGpu {
  const stat = { min: 12.5, avg: 50.25, max: 100 };
  return {
    index,
    uuid: `GPU-00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
    name: 'NVIDIA H100 80GB HBM3',
    samples: 600,
    utilization_percent: stat,
    memory_used_mb: { min: 19818, avg: 19818, max: 19818 },
    temperature_celsius: stat,
    power_draw_watts: { min: 70.12, avg: 400.5, max: 631.95 },
    seconds_above_90_percent: 540,
    top_processes: Array.from({ length: processes }, (_, k) => ({
      pid: 20_000 + index * 10 + k,
      process_name: './gpu_burn',
      used_memory_mb: 15690 - k,
    })),
  };
}

const history = (gpus: number, processes: number): GpuHistoryResult => ({
  host: 'whisper',
  from: '2026-12-01T07:50:00.000Z',
  to: '2026-12-01T08:00:00.000Z',
  resolution_seconds: 1,
  gpus: Array.from({ length: gpus }, (_, i) => historyGpu(i, processes)),
});

describe('fitGpuHistory', () => {
  it.each([1, 8])('leaves %i GPUs alone', (n) => {
    const full = history(n, 5);
    expect(fitGpuHistory(full, BUDGET)).toBe(full);
  });

  it.each([16, 24, 32])('%i GPUs: within 12 KiB, top processes trimmed first, then GPUs from the end', (n) => {
    const full = history(n, 5);
    const copy = structuredClone(full);
    const cut = fitGpuHistory(full, BUDGET);
    expect(full).toEqual(copy);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(BUDGET);
    expect(cut.note).toContain('gpu_history with gpu_index');
    const strip = (g: GpuHistoryGpu) => ({ ...g, top_processes: [] });
    expect(cut.gpus.map(strip)).toEqual(full.gpus.slice(0, cut.gpus.length).map(strip));
    cut.gpus.forEach((g, i) => expect(g.top_processes).toEqual(full.gpus[i].top_processes.slice(0, g.top_processes.length)));
    if (cut.gpus.length < n) {
      expect(cut.gpus.every((g) => g.top_processes.length === 0)).toBe(true);
      expect(cut.note).toContain(`GPUs ${indexRanges(full.gpus.slice(cut.gpus.length).map((g) => g.index))}`);
    } else {
      const shown = cut.gpus.reduce((s, g) => s + g.top_processes.length, 0);
      expect(cut.note).toContain(`${n * 5 - shown} of ${n * 5} top processes`);
    }
  });

  // Series of full-width numbers (a hundredth each): the widest a real answer gets.
  const withSeries = (points: number) => {
    const series = {
      utilization_percent: Array.from({ length: points }, (_, k) => ((k * 37) % 100) + 0.25),
      memory_used_mb: Array.from({ length: points }, (_, k) => 19818 + k * 3.25),
    };
    const full = { ...history(8, 5), series_step_seconds: 10 };
    full.gpus = full.gpus.map((g) => ({ ...g, series }));
    return { full, series };
  };

  it('8 GPUs with 30-point series fit whole; the series is never cut inside', () => {
    const { full, series } = withSeries(30);
    const cut = fitGpuHistory(full, BUDGET);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(BUDGET);
    expect(cut.gpus).toHaveLength(8);
    for (const g of cut.gpus) expect(g.series).toEqual(series);
  });

  it('8 GPUs with 60-point series: GPUs from the end are left out, named in the note, the rest whole', () => {
    const { full, series } = withSeries(60);
    const cut = fitGpuHistory(full, BUDGET);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(BUDGET);
    expect(cut.gpus.length).toBeGreaterThanOrEqual(5);
    expect(cut.gpus.length).toBeLessThan(8);
    for (const g of cut.gpus) expect(g.series).toEqual(series);
    expect(cut.note).toContain(`GPUs ${indexRanges(full.gpus.slice(cut.gpus.length).map((g) => g.index))}`);
  });

  it('one GPU asked for by gpu_index keeps all its top processes', () => {
    const one = { ...history(1, 5), gpus: [historyGpu(31, 5)] };
    expect(fitGpuHistory(one, BUDGET)).toBe(one);
  });
});

describe('indexRanges', () => {
  it.each([
    [[], ''],
    [[7], '7'],
    [[3, 4, 5], '3-5'],
    [[12, 3, 5, 6, 7, 5], '3, 5-7, 12'],
    [[0, 2, 4], '0, 2, 4'],
  ])('%j -> %s', (input, out) => expect(indexRanges(input)).toBe(out));
});
