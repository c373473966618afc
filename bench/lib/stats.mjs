/** Summaries of latency samples (ms) and of repeated runs: nearest-rank percentiles, medians, rounding. */

export const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  // Nearest rank: the value at or above q of the samples.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    p50: round(quantile(s, 0.5), 3),
    p95: round(quantile(s, 0.95), 3),
    min: round(s[0], 3),
    max: round(s[s.length - 1], 3),
    mean: round(mean, 3),
  };
}

/** stats() of each method's samples, by method name. */
export const statsByMethod = (samples) => Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));

export const median = (xs) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
