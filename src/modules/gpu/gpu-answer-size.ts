/**
 * gpu_status and gpu_history answers within the host's answer size (`results.default_max_bytes`), the
 * way the other lists are kept (countThatFit: GPUs and processes share the list part of the budget).
 * Neither operation takes a size or paging parameter, so a big host's answer is cut here: processes go
 * first, smallest first, so that every GPU keeps its largest the longest; then GPUs from the end, kept
 * whole. The note says what was left out and that gpu_history with gpu_index shows any one GPU.
 */
import { countThatFit } from '../../common/result-budget.js';
import type { GpuHistoryGpu, GpuHistoryResult, GpuProcess, GpuStatusResult } from './dto/gpu.dto.js';

interface Kept {
  /** GPUs kept, from the first. */
  gpus: number;
  /** Per process group (one per GPU, maybe one more for processes of no listed GPU): how many of its first are kept. */
  processes: number[];
}

/**
 * What of `gpus` (without their processes) and `groups` (processes per GPU, most important first) fits
 * the list part of `budget`, or undefined when everything does. GPUs come first; then processes in
 * rounds: every group's first, then every group's second, and so on. Once a GPU must go, every process
 * goes too (a process list of GPUs that are not shown would explain nothing).
 */
function keptOf(gpus: readonly unknown[], groups: readonly (readonly unknown[])[], budget: number): Kept | undefined {
  const items: unknown[] = [...gpus];
  const owners: number[] = [];
  const longest = Math.max(0, ...groups.map((g) => g.length));
  for (let round = 0; round < longest; round++) {
    groups.forEach((group, g) => {
      if (round < group.length) {
        items.push(group[round]);
        owners.push(g);
      }
    });
  }
  const fit = countThatFit(items, budget);
  if (fit === items.length) return undefined;
  const processes = groups.map(() => 0);
  // The first GPU always stays: an answer without any GPU would tell nothing.
  if (fit < gpus.length) return { gpus: Math.max(1, fit), processes };
  for (const g of owners.slice(0, fit - gpus.length)) processes[g]++;
  return { gpus: gpus.length, processes };
}

/** "3, 5-7, 12" for GPU indexes. */
export function indexRanges(indexes: readonly number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(', ');
}

const LEFT_OUT = 'Left out to keep this answer small:';
const RAISE = "a larger results.default_max_bytes in the host's settings shows";

function leftOutGpus(all: readonly { index: number }[], kept: number): string {
  const gone = all.slice(kept).map((g) => g.index);
  return `GPUs ${indexRanges(gone)} (${gone.length} of ${all.length})`;
}

/** A gpu_status answer within `budget` bytes; the same object when it already is. */
export function fitGpuStatus(result: GpuStatusResult, budget: number): GpuStatusResult {
  const byMemory = (a: GpuProcess, b: GpuProcess) => (b.used_memory_mb ?? -1) - (a.used_memory_mb ?? -1);
  const byGpu = new Map<string, GpuProcess[]>(result.gpus.map((g) => [g.uuid, []]));
  const unlisted: GpuProcess[] = [];
  for (const p of result.processes) (byGpu.get(p.gpu_uuid) ?? unlisted).push(p);
  const groups = [...byGpu.values(), ...(unlisted.length > 0 ? [unlisted] : [])].map((group) => group.sort(byMemory));
  const kept = keptOf(result.gpus, groups, budget);
  if (!kept) return result;

  const keep = new Set(groups.flatMap((group, g) => group.slice(0, kept.processes[g])));
  const processes = result.processes.filter((p) => keep.has(p));
  const total = result.processes.length;
  const first = result.gpus[kept.gpus];
  const note =
    first !== undefined
      ? `${LEFT_OUT} ${leftOutGpus(result.gpus, kept.gpus)}${total > 0 ? ` and all ${total} processes` : ''}. ` +
        `gpu_history with gpu_index (e.g. ${first.index}) shows one GPU's utilization, memory, temperature, power and top processes; ${RAISE} every GPU here.`
      : `${LEFT_OUT} ${total - processes.length} of ${total} processes (each GPU lists its largest by memory). ` +
        `gpu_history with gpu_index shows one GPU's top processes; ${RAISE} them all.`;
  return { ...result, gpus: result.gpus.slice(0, kept.gpus), processes, note };
}

/** A gpu_history answer within `budget` bytes; the same object when it already is. */
export function fitGpuHistory(result: GpuHistoryResult, budget: number): GpuHistoryResult {
  const withoutProcesses = result.gpus.map((g): GpuHistoryGpu => ({ ...g, top_processes: [] }));
  const kept = keptOf(
    withoutProcesses,
    result.gpus.map((g) => g.top_processes),
    budget,
  );
  if (!kept) return result;

  const gpus = result.gpus.slice(0, kept.gpus).map((g, i) => ({ ...g, top_processes: g.top_processes.slice(0, kept.processes[i]) }));
  const first = result.gpus[kept.gpus];
  const total = result.gpus.reduce((n, g) => n + g.top_processes.length, 0);
  const shown = gpus.reduce((n, g) => n + g.top_processes.length, 0);
  const note =
    first !== undefined
      ? `${LEFT_OUT} ${leftOutGpus(result.gpus, kept.gpus)} and the top processes. ` +
        `gpu_history with gpu_index (e.g. ${first.index}) shows one GPU; ${RAISE} every GPU here.`
      : `${LEFT_OUT} ${total - shown} of ${total} top processes (each GPU lists its largest). ` +
        `gpu_history with gpu_index shows one GPU with all its top processes; ${RAISE} them all.`;
  return { ...result, gpus, note };
}
