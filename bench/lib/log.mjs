/** Progress lines on stderr (the table goes to stdout), and the sanity checks that stop a run gone wrong. */

export function log(...args) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);
}

/** A measurement of a wrong answer is no measurement: the run stops. */
export function check(cond, what) {
  if (!cond) throw new Error(`bench sanity check failed: ${what}`);
}
