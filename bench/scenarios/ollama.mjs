/**
 * ollama_version through the SSH connection (the default for an ssh host) against a second server that
 * dials the fake Ollama itself (OLLAMA_TUNNEL=false).
 */
import { check } from '../lib/log.mjs';
import { ratioRow } from '../lib/rows.mjs';
import { latency } from '../lib/rounds.mjs';
import { statsByMethod } from '../lib/stats.mjs';

export const ollama = {
  section: 'ollama',

  async run(ctx) {
    const directServer = await ctx.startServer({ ...ctx.serverEnv, OLLAMA_TUNNEL: 'false' }, 30_000);
    ctx.defer(() => directServer.stop());
    const httpOllamaVersion = (base) => async () => {
      const r = await ctx.http.request(base, 'GET', '/ollama/version');
      check(r.status === 200 && r.body?.version, `ollama_version: ${r.status} ${r.text.slice(0, 300)}`);
      return r.ms;
    };
    const tunnel = httpOllamaVersion(ctx.server.url);
    const direct = httpOllamaVersion(directServer.url);
    for (let i = 0; i < 5; i++) await Promise.all([tunnel(), direct()]);
    const run = await latency(
      [
        ['tunnel', tunnel],
        ['direct', direct],
      ],
      { min: ctx.n(40, 12), max: ctx.n(200, 20), budgetMs: 10_000 * ctx.scale },
    );
    await directServer.stop();
    const ov = statsByMethod(run.samples);
    ctx.log(`ollama_version p50 (${run.rounds} rounds): through the SSH tunnel ${ov.tunnel.p50} ms, direct ${ov.direct.p50} ms`);
    return {
      rows: [
        ratioRow('ollama_version HTTP p50 through the SSH tunnel', ov.tunnel.p50, 'same, OLLAMA_TUNNEL=false', ov.direct.p50, '— (info)'),
      ],
      raw: { ollama_version_ms: run.samples },
      summary: { ollama_version: ov },
    };
  },
};
