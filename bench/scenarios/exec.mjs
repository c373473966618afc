/**
 * A trivial command (`true`) through shell_exec against a raw ssh2 exec on a warm connection (no-delay and
 * ssh2's default socket), the raw client's own warm shell, and a new connection per call: the transport's
 * own cost, without remote work.
 * The bare HTTP floor (lib/http-floor-server.mjs) runs in the same rounds: the part of the ratio that is
 * the HTTP hop, which any HTTP server pays here, against the part that is the server under test.
 */
import { connectPerCall, httpShell, rawRun, rawWarmRun } from '../lib/probes.mjs';
import { ms, ratioRow, row } from '../lib/rows.mjs';
import { latency } from '../lib/rounds.mjs';
import { statsByMethod } from '../lib/stats.mjs';

export const exec = {
  section: 'exec',

  async run(ctx) {
    const trivialRun = await latency(
      [
        ['http_shell_exec', httpShell(ctx, 'true', (b) => b.exit_code === 0 || b.exit_code === null)],
        ['http_floor', httpShell(ctx, 'true', (b) => b.exit_code === 0, ctx.httpFloor.url)],
        ['raw_nodelay', rawRun(ctx.raw.noDelay, 'true', () => true)],
        ['raw_default', rawRun(ctx.raw.defaultSocket, 'true', () => true), 2],
        ['raw_warm_shell', rawWarmRun(ctx.raw.warmShell, 'true')],
        ['connect_per_call', connectPerCall(ctx, 'true'), 3],
      ],
      { min: ctx.n(40, 12), max: ctx.n(150, 20), budgetMs: 15_000 * ctx.scale },
    );
    const ts = statsByMethod(trivialRun.samples);
    ctx.log(
      `exec 'true' p50 ms (${trivialRun.rounds} rounds): ${Object.entries(ts)
        .map(([k, v]) => `${k} ${v.p50}`)
        .join(', ')}`,
    );
    const raw = 'raw warm no-delay';
    return {
      rows: [
        ratioRow("exec 'true': shell_exec HTTP p50", ts.http_shell_exec.p50, raw, ts.raw_nodelay.p50, '≤ 1.5×', 1.5),
        ratioRow("exec 'true': bare node:http + ssh2 server p50", ts.http_floor.p50, raw, ts.raw_nodelay.p50, '— (info)'),
        ratioRow("exec 'true': shell_exec HTTP vs bare HTTP server", ts.http_shell_exec.p50, 'bare', ts.http_floor.p50, '— (info)'),
        ratioRow("exec 'true': raw warm default socket p50", ts.raw_default.p50, raw, ts.raw_nodelay.p50, '— (info)'),
        // The server runs commands in warm shells: the same technique done by a plain client, for scale.
        ratioRow("exec 'true': raw client's own warm shell p50", ts.raw_warm_shell.p50, raw, ts.raw_nodelay.p50, '— (info)'),
        ratioRow(
          "exec 'true': shell_exec HTTP vs raw warm shell",
          ts.http_shell_exec.p50,
          'raw warm shell',
          ts.raw_warm_shell.p50,
          '— (info)',
        ),
        // Measured is shell_exec, the ratio how many times slower connect-per-call is.
        row(
          "exec 'true': shell_exec HTTP vs connect-per-call",
          ms(ts.http_shell_exec.p50),
          `connect-per-call ${ms(ts.connect_per_call.p50)}`,
          ts.connect_per_call.p50 / ts.http_shell_exec.p50,
          '— (info)',
          null,
        ),
      ],
      raw: { trivial_exec_ms: trivialRun.samples },
      summary: { trivial_exec: ts },
    };
  },
};
