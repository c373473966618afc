/**
 * Interleaved measurement: every method compared runs once per round, in a rotating order, so a burst of
 * load elsewhere on a shared machine hits all of them alike.
 */
import { performance } from 'node:perf_hooks';

/** Runs `fn(i)` for rounds 0.. until `max` rounds or `budgetMs` elapsed, but at least `min` rounds. */
export async function rounds(min, max, budgetMs, fn) {
  const t0 = performance.now();
  let i = 0;
  for (; i < max && (i < min || performance.now() - t0 < budgetMs); i++) await fn(i);
  return i;
}

/**
 * Interleaved latency samples. `methods` are [name, fn, every = 1]: fn returns its own duration in ms and
 * runs in the rounds divisible by `every` (the slow baselines run less often).
 */
export async function latency(methods, { min, max, budgetMs }) {
  const samples = Object.fromEntries(methods.map(([name]) => [name, []]));
  const done = await rounds(min, max, budgetMs, async (i) => {
    const due = methods.filter(([, , every = 1]) => i % every === 0);
    for (let k = 0; k < due.length; k++) {
      const [name, fn] = due[(i + k) % due.length];
      samples[name].push(await fn());
    }
  });
  return { samples, rounds: done };
}
