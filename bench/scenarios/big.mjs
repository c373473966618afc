/**
 * 1 GiB of output (`head -c 1GiB /dev/zero`) through shell_exec, sampling the server's RSS every 50 ms
 * while it answers, against a raw ssh2 exec on the warm connection that reads all of it.
 */
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { check } from '../lib/log.mjs';
import { rssBytes } from '../lib/machine.mjs';
import { rawExec } from '../lib/raw-ssh.mjs';
import { GiB, MiB, mb, ms, row } from '../lib/rows.mjs';
import { median, round } from '../lib/stats.mjs';

const BIG_CMD = `head -c ${GiB} /dev/zero`;

/** The server's RSS: the median of five readings 50 ms apart. */
async function steadyRss(pid) {
  const before = [];
  for (let k = 0; k < 5; k++) {
    before.push(rssBytes(pid));
    await sleep(50);
  }
  return median(before);
}

/** One shell_exec of it: the run's record for results.json, and the signal that ended the command (for the log). */
async function serverRun(ctx) {
  const pid = ctx.server.pid;
  const rssBefore = await steadyRss(pid);
  let rssMax = rssBefore;
  const samples = [];
  const timer = setInterval(() => {
    const v = rssBytes(pid);
    samples.push(v);
    if (v > rssMax) rssMax = v;
  }, 50);
  let r;
  ctx.http.dropIdleSockets();
  try {
    r = await ctx.http.request(ctx.server.url, 'POST', '/shell/exec', { body: { command: BIG_CMD } });
  } finally {
    clearInterval(timer);
  }
  const after = rssBytes(pid);
  if (after > rssMax) rssMax = after;
  check(r.status === 200, `1 GiB shell_exec answered ${r.status} ${r.text.slice(0, 300)}`);
  const record = {
    ms: r.ms,
    rss_before: rssBefore,
    rss_max: rssMax,
    rss_growth: rssMax - rssBefore,
    rss_samples: samples.length,
    stdout_bytes: r.body.stdout_bytes,
    stdout_truncated: r.body.stdout_truncated,
    response_bytes: Buffer.byteLength(r.text),
    exit_code: r.body.exit_code,
    timed_out: r.body.timed_out,
    output_limit_reached: r.body.output_limit_reached,
    server_duration_ms: r.body.duration_ms,
  };
  return { record, signal: r.body.signal };
}

export const big = {
  section: 'big',

  async run(ctx) {
    const bigRuns = [];
    const rawBigRuns = [];
    for (let i = 0; i < ctx.n(2, 1); i++) {
      const t = performance.now();
      const raw = await rawExec(ctx.raw.noDelay, BIG_CMD, { keep: false });
      check(raw.bytes === GiB, `raw 1 GiB read ${raw.bytes} bytes`);
      rawBigRuns.push(performance.now() - t);
      const { record: b, signal } = await serverRun(ctx);
      bigRuns.push(b);
      ctx.log(
        `1 GiB: http ${Math.round(b.ms)} ms (stdout_bytes read ${b.stdout_bytes}, output_limit_reached ${b.output_limit_reached}, exit ${b.exit_code}, signal ${signal}), raw ${Math.round(rawBigRuns.at(-1))} ms, RSS +${(b.rss_growth / MiB).toFixed(1)} MiB`,
      );
    }
    const bigMs = median(bigRuns.map((b) => b.ms));
    const bigRaw = median(rawBigRuns);
    // Since shell.max_read_bytes the server ends such a command after 16 MiB; the raw client reads all of it.
    const bigRead = median(bigRuns.map((b) => b.stdout_bytes));
    const bigRss = Math.max(...bigRuns.map((b) => b.rss_growth));
    const ended = bigRuns.every((b) => b.output_limit_reached) ? ', then ended' : '';
    return {
      rows: [
        row(
          `1 GiB output: time to answer (read ${round(bigRead / MiB, 1)} MiB${ended})`,
          ms(bigMs),
          `raw warm exec reading all ${ms(bigRaw)}`,
          bigRead === GiB ? bigMs / bigRaw : null,
          '≤ 5000 ms',
          bigMs <= 5000,
        ),
        row('1 GiB output: server RSS growth (max)', mb(bigRss), '—', null, '≤ 50 MB', bigRss <= 50 * MiB),
      ],
      raw: { big_output: { http: bigRuns, raw_ms: rawBigRuns } },
    };
  },
};
