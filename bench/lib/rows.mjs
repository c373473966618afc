/** Table rows as scenarios return them, and the units their cells are written in. */
import { round } from './stats.mjs';

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

export const ms = (x) => `${round(x, 1)} ms`;
export const mb = (x) => `${round(x / MiB, 1)} MB`;

/**
 * One row of the table. ratio: measured / baseline (null: no ratio shown); met: whether the target is met
 * (null: the row has no target, it informs).
 */
export const row = (metric, measured, baseline, ratio, target, met) => ({
  metric,
  measured,
  baseline,
  ratio: ratio === null ? '' : `${round(ratio, 2)}×`,
  target,
  met: met === null ? '' : met ? 'yes' : 'NO',
});

/**
 * The common row: latency `a` against baseline `b` (both ms, the baseline cell "<label> b ms"), ratio a/b;
 * met when the ratio is at most `maxRatio` (null: no target, the row informs).
 */
export const ratioRow = (metric, a, label, b, target, maxRatio = null) =>
  row(metric, ms(a), `${label} ${ms(b)}`, a / b, target, maxRatio === null ? null : a / b <= maxRatio);
