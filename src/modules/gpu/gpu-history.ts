/**
 * GPU history of one host: a GpuSeries per GPU (gpu-series.ts), fed with the sampler's readings, and the
 * window statistics gpu_history answers and the chart series the dashboard draws. Pure (time comes in as
 * arguments), so windows are tested with a made-up clock.
 */
import type { GpuHistoryGpu, GpuInfo, GpuProcess } from './dto/gpu.dto.js';
import { FINE_SLOTS, GpuSeries, MAX_NAME_CHARS, type GpuChartSeries } from './gpu-series.js';

export type { GpuChartSeries };

/** A host cannot make the server keep more series than this (a hostile nvidia-smi could list thousands). */
export const MAX_GPUS_PER_HOST = 32;

export interface HistoryWindow {
  from: number;
  to: number;
  resolution_seconds: number;
  gpus: GpuHistoryGpu[];
}

/** The history of one host: a series per GPU (by UUID). */
export class HostGpuHistory {
  private readonly series = new Map<string, GpuSeries>();

  /** Bytes the series hold in typed arrays (outside the JS heap). */
  bufferBytes(): number {
    let n = 0;
    for (const s of this.series.values()) n += s.bufferBytes;
    return n;
  }

  /** @param intervalMs the sampler's interval: the fine resolution, and the longest a reading stands for (x2). */
  constructor(private readonly intervalMs: number) {}

  add(at: number, gpus: readonly GpuInfo[], processes: readonly GpuProcess[]): void {
    for (const g of gpus) {
      let s = this.series.get(g.uuid);
      if (!s) {
        if (this.series.size >= MAX_GPUS_PER_HOST || g.uuid.length > MAX_NAME_CHARS) continue;
        s = new GpuSeries(g.uuid, g);
        this.series.set(g.uuid, s);
      }
      s.add(at, g, processes, this.intervalMs / 1000);
    }
  }

  /**
   * Statistics for the `windowMs` before `now`: from every reading when the window fits in the last hour,
   * else from the minute aggregates. GPUs in index order; `gpuIndex` keeps one; `points` adds each GPU's
   * series of that many spans.
   */
  window(now: number, windowMs: number, gpuIndex?: number, points?: number): HistoryWindow {
    const from = now - windowMs;
    const fine = windowMs <= FINE_SLOTS * Math.min(this.intervalMs, 1000);
    const gpus = [...this.series.values()]
      .filter((s) => gpuIndex === undefined || s.index === gpuIndex)
      .map((s) => {
        const stats = fine ? s.fine(from, now) : s.coarse(from, now);
        return points ? { ...stats, series: s.series(from, now, points, fine) } : stats;
      })
      .filter((g) => g.samples > 0)
      .sort((a, b) => a.index - b.index);
    return { from, to: now, resolution_seconds: fine ? this.intervalMs / 1000 : 60, gpus };
  }

  /** Per GPU (index order), the readings of the `windowMs` before `now` in buckets of `bucketMs` (see GpuSeries.chart). */
  chart(now: number, windowMs: number, bucketMs: number): GpuChartSeries[] {
    return [...this.series.values()]
      .map((s) => s.chart(now - windowMs, now, bucketMs))
      .filter((c) => c.times.length > 0)
      .sort((a, b) => a.index - b.index);
  }
}
