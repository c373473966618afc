/**
 * One GPU's history: its readings of the last hour (one slot per reading, at most FINE_SLOTS) and one-minute
 * aggregates for 24 hours, each with its top processes, in typed arrays of fixed size, so memory does not
 * grow with the sampling rate or the uptime; and the window statistics, chart buckets and short series read
 * from them.
 * Pure (time comes in as arguments). Kept whole past 300 lines: the two rings, their write path and the
 * four readers share the slot layout, and splitting them would spread that layout over files.
 */
import type { GpuHistoryGpu, GpuHistoryProcess, GpuHistorySeries, GpuHistoryStat, GpuInfo, GpuProcess } from './dto/gpu.dto.js';

export const FINE_SLOTS = 3600;
export const COARSE_SLOTS = 1440;
const MINUTE_MS = 60_000;
/** A GPU counts as busy at or above this utilization. */
const BUSY_PERCENT = 90;
/** Processes kept per minute and GPU, and returned per GPU. */
const PROCESSES_PER_MINUTE = 3;
const TOP_PROCESSES = 5;
/** Names are kept at most this long, so a host printing huge names cannot grow the history. */
export const MAX_NAME_CHARS = 256;
const clipName = <T extends string | null>(s: T): T => (s !== null && s.length > MAX_NAME_CHARS ? (s.slice(0, MAX_NAME_CHARS) as T) : s);

/** utilization, memory used, temperature, power: the four metrics kept. */
const METRICS = 4;
type Metric = 0 | 1 | 2 | 3;
const metricsOf = (g: GpuInfo): number[] =>
  [g.utilization_percent, g.memory_used_mb, g.temperature_celsius, g.power_draw_watts].map((v) => v ?? NaN);

interface MinuteAggregate {
  start: number;
  samples: number;
  busySeconds: number;
  min: number[];
  max: number[];
  sum: number[];
  count: number[];
  processes: GpuHistoryProcess[];
}

/** Counts one value of metric `m` into `acc`; NaN (the GPU did not report it) is left out. */
function accumulate(acc: MinuteAggregate, m: number, v: number): void {
  if (Number.isNaN(v)) return;
  acc.min[m] = Math.min(acc.min[m], v);
  acc.max[m] = Math.max(acc.max[m], v);
  acc.sum[m] += v;
  acc.count[m]++;
}

function emptyMinute(start: number): MinuteAggregate {
  return {
    start,
    samples: 0,
    busySeconds: 0,
    min: Array<number>(METRICS).fill(Infinity),
    max: Array<number>(METRICS).fill(-Infinity),
    sum: Array<number>(METRICS).fill(0),
    count: Array<number>(METRICS).fill(0),
    processes: [],
  };
}

/** Keep the `limit` processes with the most memory, one entry per pid and name with its peak. */
function mergeProcesses(into: GpuHistoryProcess[], add: readonly GpuHistoryProcess[], limit: number): GpuHistoryProcess[] {
  const byKey = new Map<string, GpuHistoryProcess>();
  for (const p of [...into, ...add]) {
    const key = `${p.pid}\u0000${p.process_name}`;
    const seen = byKey.get(key);
    if (!seen || (p.used_memory_mb ?? -1) > (seen.used_memory_mb ?? -1)) byKey.set(key, { ...p });
  }
  return [...byKey.values()].sort((a, b) => (b.used_memory_mb ?? -1) - (a.used_memory_mb ?? -1)).slice(0, limit);
}

export class GpuSeries {
  index: number;
  name: string;
  // Fine ring: one slot per reading.
  private readonly at = new Float64Array(FINE_SLOTS);
  private readonly values = new Float32Array(FINE_SLOTS * METRICS);
  private readonly seconds = new Float32Array(FINE_SLOTS);
  private fineNext = 0;
  private fineCount = 0;
  // Coarse ring: one aggregate per minute, typed arrays except the process lists.
  private readonly minuteStart = new Float64Array(COARSE_SLOTS);
  private readonly minuteSamples = new Uint32Array(COARSE_SLOTS);
  private readonly minuteBusy = new Float32Array(COARSE_SLOTS);
  private readonly minuteMin = new Float32Array(COARSE_SLOTS * METRICS);
  private readonly minuteMax = new Float32Array(COARSE_SLOTS * METRICS);
  private readonly minuteSum = new Float64Array(COARSE_SLOTS * METRICS);
  private readonly minuteCount = new Uint32Array(COARSE_SLOTS * METRICS);
  private readonly minuteProcesses: GpuHistoryProcess[][] = [];
  private coarseNext = 0;
  private coarseCount = 0;
  private current: MinuteAggregate | undefined;
  private lastAt = -Infinity;

  constructor(
    readonly uuid: string,
    gpu: GpuInfo,
  ) {
    this.index = gpu.index;
    this.name = clipName(gpu.name);
  }

  /** Bytes held in typed arrays: fixed at construction, whatever the history holds. */
  get bufferBytes(): number {
    const arrays = [this.at, this.values, this.seconds, this.minuteStart, this.minuteSamples, this.minuteBusy];
    return [...arrays, this.minuteMin, this.minuteMax, this.minuteSum, this.minuteCount].reduce((n, a) => n + a.byteLength, 0);
  }

  add(at: number, gpu: GpuInfo, processes: readonly GpuProcess[], intervalSeconds: number): void {
    if (!(at > this.lastAt)) return; // out of order or repeated: the clock went back, keep what is there
    this.index = gpu.index;
    this.name = clipName(gpu.name);
    // The time a reading stands for: the gap since the previous one, but not more than two intervals (a
    // pause in sampling is not time at the last value).
    const seconds = Math.min((at - this.lastAt) / 1000, 2 * intervalSeconds);
    this.lastAt = at;
    const values = metricsOf(gpu);

    const slot = this.fineNext;
    this.at[slot] = at;
    this.seconds[slot] = seconds;
    for (let m = 0; m < METRICS; m++) this.values[slot * METRICS + m] = values[m];
    this.fineNext = (slot + 1) % FINE_SLOTS;
    this.fineCount = Math.min(this.fineCount + 1, FINE_SLOTS);

    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    if (this.current && this.current.start !== minute) this.closeMinute();
    const cur = (this.current ??= emptyMinute(minute));
    cur.samples++;
    if (values[0] >= BUSY_PERCENT) cur.busySeconds += seconds;
    for (let m = 0; m < METRICS; m++) accumulate(cur, m, values[m]);
    const mine = processes
      .filter((p) => p.gpu_uuid === this.uuid)
      .map((p) => ({ pid: p.pid, process_name: clipName(p.process_name), used_memory_mb: p.used_memory_mb }));
    if (mine.length > 0) cur.processes = mergeProcesses(cur.processes, mine, PROCESSES_PER_MINUTE);
  }

  private closeMinute(): void {
    const cur = this.current!;
    const slot = this.coarseNext;
    this.minuteStart[slot] = cur.start;
    this.minuteSamples[slot] = cur.samples;
    this.minuteBusy[slot] = cur.busySeconds;
    for (let m = 0; m < METRICS; m++) {
      this.minuteMin[slot * METRICS + m] = cur.count[m] > 0 ? cur.min[m] : NaN;
      this.minuteMax[slot * METRICS + m] = cur.count[m] > 0 ? cur.max[m] : NaN;
      this.minuteSum[slot * METRICS + m] = cur.sum[m];
      this.minuteCount[slot * METRICS + m] = cur.count[m];
    }
    this.minuteProcesses[slot] = cur.processes;
    this.coarseNext = (slot + 1) % COARSE_SLOTS;
    this.coarseCount = Math.min(this.coarseCount + 1, COARSE_SLOTS);
    this.current = undefined;
  }

  /** Window statistics from the fine ring (every reading in [from, to]). */
  fine(from: number, to: number): GpuHistoryGpu {
    const acc = emptyMinute(from);
    this.eachReading(from, to, (slot) => {
      acc.samples++;
      const util = this.values[slot * METRICS];
      if (util >= BUSY_PERCENT) acc.busySeconds += this.seconds[slot];
      for (let m = 0; m < METRICS; m++) accumulate(acc, m, this.values[slot * METRICS + m]);
    });
    acc.processes = this.processesSince(from, to);
    return this.view(acc);
  }

  /** The fine-ring slot of each reading taken in [from, to], newest first. */
  private eachReading(from: number, to: number, visit: (slot: number, at: number) => void): void {
    for (let i = 0; i < this.fineCount; i++) {
      const slot = this.fineSlot(i);
      const at = this.at[slot];
      if (at < from) break; // newest first: everything further is older
      if (at > to) continue;
      visit(slot, at);
    }
  }

  /** Window statistics from the minute aggregates that start in [from, to], the current minute included. */
  coarse(from: number, to: number): GpuHistoryGpu {
    const acc = emptyMinute(from);
    this.eachMinute(from, to, (_start, samples, busy, stat) => {
      acc.samples += samples;
      acc.busySeconds += busy;
      for (let m = 0; m < METRICS; m++) {
        const [min, max, sum, count] = stat(m);
        if (count === 0) continue;
        acc.min[m] = Math.min(acc.min[m], min);
        acc.max[m] = Math.max(acc.max[m], max);
        acc.sum[m] += sum;
        acc.count[m] += count;
      }
    });
    acc.processes = this.processesSince(from, to);
    return this.view(acc);
  }

  /**
   * Each minute aggregate that starts in [from, to], newest first, then the current minute if it does:
   * its start, readings, busy seconds and, per metric, [min, max, sum, count].
   */
  private eachMinute(
    from: number,
    to: number,
    visit: (start: number, samples: number, busy: number, stat: (m: number) => [number, number, number, number]) => void,
  ): void {
    for (let i = 0; i < this.coarseCount; i++) {
      const slot = this.coarseSlot(i);
      const start = this.minuteStart[slot];
      if (start < from) break;
      if (start > to) continue;
      const k = slot * METRICS;
      visit(start, this.minuteSamples[slot], this.minuteBusy[slot], (m) => [
        this.minuteMin[k + m],
        this.minuteMax[k + m],
        this.minuteSum[k + m],
        this.minuteCount[k + m],
      ]);
    }
    const cur = this.current;
    if (cur && cur.start >= from && cur.start <= to)
      visit(cur.start, cur.samples, cur.busySeconds, (m) => [cur.min[m], cur.max[m], cur.sum[m], cur.count[m]]);
  }

  /**
   * The readings in [from, to] averaged into buckets of `bucketMs` (for charts): bucket start times and,
   * per metric, the mean of its readings or null where a bucket has none (a gap stays a gap).
   */
  chart(from: number, to: number, bucketMs: number): GpuChartSeries {
    const buckets = Math.max(1, Math.ceil((to - from) / bucketMs));
    const { sum, count } = this.bucketed(from, to, bucketMs, buckets, false);
    const times: number[] = [];
    const series: Array<Array<number | null>> = [[], [], [], []];
    for (let b = 0; b < buckets; b++) {
      if (!count.subarray(b * METRICS, b * METRICS + METRICS).some((c) => c > 0)) continue;
      times.push(from + b * bucketMs);
      for (let m = 0; m < METRICS; m++) {
        const c = count[b * METRICS + m];
        series[m].push(c === 0 ? null : round(sum[b * METRICS + m] / c));
      }
    }
    const [utilization_percent, memory_used_mb, temperature_celsius, power_draw_watts] = series;
    return {
      index: this.index,
      uuid: this.uuid,
      name: this.name,
      times,
      utilization_percent,
      memory_used_mb,
      temperature_celsius,
      power_draw_watts,
    };
  }

  /**
   * Utilization and memory used over [from, to] as `points` means of equal spans, oldest first, null
   * where a span has no reading: from every reading (`fine`) or from the minute aggregates.
   */
  series(from: number, to: number, points: number, fine: boolean): GpuHistorySeries {
    const { sum, count } = this.bucketed(from, to, (to - from) / points, points, !fine);
    const mean = (m: Metric) =>
      Array.from({ length: points }, (_, b) =>
        count[b * METRICS + m] === 0 ? null : round(sum[b * METRICS + m] / count[b * METRICS + m]),
      );
    return { utilization_percent: mean(0), memory_used_mb: mean(1) };
  }

  /**
   * Sums and counts per metric in `buckets` buckets of `bucketMs` from `from`: of the readings in
   * [from, to], or of the minute aggregates that start in it (their sums and counts, so a mean stays a
   * mean of readings). What falls past the last bucket counts in it.
   */
  private bucketed(from: number, to: number, bucketMs: number, buckets: number, coarse: boolean) {
    const sum = new Float64Array(buckets * METRICS);
    const count = new Uint32Array(buckets * METRICS);
    const bucketOf = (at: number) => Math.min(buckets - 1, Math.floor((at - from) / bucketMs));
    if (!coarse) {
      this.eachReading(from, to, (slot, at) => {
        const b = bucketOf(at);
        for (let m = 0; m < METRICS; m++) {
          const v = this.values[slot * METRICS + m];
          if (Number.isNaN(v)) continue;
          sum[b * METRICS + m] += v;
          count[b * METRICS + m]++;
        }
      });
      return { sum, count };
    }
    this.eachMinute(from, to, (start, _samples, _busy, stat) => {
      const b = bucketOf(start);
      for (let m = 0; m < METRICS; m++) {
        const [, , minuteSum, minuteCount] = stat(m);
        sum[b * METRICS + m] += minuteSum;
        count[b * METRICS + m] += minuteCount;
      }
    });
    return { sum, count };
  }

  /** The slot of the i-th newest reading. */
  private fineSlot(i: number): number {
    return (this.fineNext - 1 - i + FINE_SLOTS) % FINE_SLOTS;
  }

  /** The slot of the i-th newest closed minute. */
  private coarseSlot(i: number): number {
    return (this.coarseNext - 1 - i + COARSE_SLOTS) % COARSE_SLOTS;
  }

  private processesSince(from: number, to: number): GpuHistoryProcess[] {
    const from0 = Math.floor(from / MINUTE_MS) * MINUTE_MS;
    let top: GpuHistoryProcess[] = [];
    for (let i = 0; i < this.coarseCount; i++) {
      const slot = this.coarseSlot(i);
      if (this.minuteStart[slot] < from0) break;
      if (this.minuteStart[slot] <= to) top = mergeProcesses(top, this.minuteProcesses[slot] ?? [], TOP_PROCESSES);
    }
    if (this.current && this.current.start >= from0 && this.current.start <= to)
      top = mergeProcesses(top, this.current.processes, TOP_PROCESSES);
    return top;
  }

  private view(acc: MinuteAggregate): GpuHistoryGpu {
    const stat = (m: number): GpuHistoryStat =>
      acc.count[m] === 0
        ? { min: null, avg: null, max: null }
        : { min: round(acc.min[m]), avg: round(acc.sum[m] / acc.count[m]), max: round(acc.max[m]) };
    return {
      index: this.index,
      uuid: this.uuid,
      name: this.name,
      samples: acc.samples,
      utilization_percent: stat(0),
      memory_used_mb: stat(1),
      temperature_celsius: stat(2),
      power_draw_watts: stat(3),
      seconds_above_90_percent: Math.round(acc.busySeconds),
      top_processes: acc.processes,
    };
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** One GPU's readings over a window, bucketed for a chart (times in ms since the epoch). */
export interface GpuChartSeries {
  index: number;
  uuid: string;
  name: string;
  times: number[];
  utilization_percent: Array<number | null>;
  memory_used_mb: Array<number | null>;
  temperature_celsius: Array<number | null>;
  power_draw_watts: Array<number | null>;
}
