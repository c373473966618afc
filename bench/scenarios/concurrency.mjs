/**
 * 200 concurrent shell_exec (`echo i`, each answer checked) against a raw ssh2 client running the same 200
 * commands on 8 channels of its warm connection: errors and throughput, bursts rotating which goes first.
 * The bare HTTP floor (lib/http-floor-server.mjs) takes the same bursts: what any HTTP server reaches here.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { rawExecRetrying } from '../lib/raw-ssh.mjs';
import { row } from '../lib/rows.mjs';
import { median, round } from '../lib/stats.mjs';

const CONCURRENT = 200;
const CHANNELS = 8;

async function httpBurst(ctx, count = CONCURRENT, url = ctx.server.url) {
  // Its own keep-alive agent per burst (200 connections, like 200 clients), opened inside the timing.
  const burstAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const t = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      ctx.http.request(url, 'POST', '/shell/exec', { body: { command: `echo ${i}` }, via: burstAgent }).then(
        (r) => {
          if (r.status !== 200) return `HTTP ${r.status} ${r.body?.code ?? ''}: ${(r.body?.message ?? r.text).slice(0, 160)}`;
          if (r.body.stdout !== `${i}\n`) return `wrong stdout ${JSON.stringify(r.body.stdout).slice(0, 60)}`;
          if (r.body.exit_code !== 0) return `exit_code ${r.body.exit_code} (signal ${r.body.signal}, stdout right) for "echo ${i}"`;
          return null;
        },
        (err) => `request failed: ${err.message}`,
      ),
    ),
  );
  const ms = performance.now() - t;
  burstAgent.destroy();
  const errors = outcomes.filter(Boolean);
  const kinds = {};
  for (const e of errors) {
    const kind = e.replace(/\d+/g, 'N');
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return { ms, calls_per_s: (count * 1000) / ms, errors: errors.length, error_kinds: kinds };
}

async function rawBurst(ctx, count = CONCURRENT) {
  const counters = { retries: 0 };
  const t = performance.now();
  let next = 0;
  const errors = [];
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        const r = await rawExecRetrying(ctx.raw.noDelay, `echo ${i}`, counters);
        if (r.code !== 0 || r.stdout !== `${i}\n`) errors.push(`bad answer ${r.code} ${r.stdout}`);
      } catch (err) {
        errors.push(err.message);
      }
    }
  };
  await Promise.all(Array.from({ length: CHANNELS }, worker));
  const ms = performance.now() - t;
  return {
    ms,
    calls_per_s: (count * 1000) / ms,
    errors: errors.length,
    open_retries: counters.retries,
    error_samples: [...new Set(errors)].slice(0, 3),
  };
}

export const concurrency = {
  section: 'concurrency',

  async run(ctx) {
    // A smaller unmeasured burst each first: opens the client's keep-alive sockets, warms the handlers.
    await rawBurst(ctx, 50);
    await httpBurst(ctx, 50);
    await httpBurst(ctx, 50, ctx.httpFloor.url);
    const bursts = { http: [], raw: [], http_floor: [] };
    const kinds = {
      raw: () => rawBurst(ctx),
      http: () => httpBurst(ctx),
      http_floor: () => httpBurst(ctx, CONCURRENT, ctx.httpFloor.url),
    };
    const order = Object.keys(kinds);
    const burstReps = ctx.n(3, 2);
    for (let i = 0; i < burstReps; i++) {
      // Each rep starts with a different one, so none always runs right after another's burst.
      for (let k = 0; k < order.length; k++) {
        const kind = order[(i + k) % order.length];
        bursts[kind].push(await kinds[kind]());
      }
    }
    const httpTput = median(bursts.http.map((b) => b.calls_per_s));
    const rawTput = median(bursts.raw.map((b) => b.calls_per_s));
    const httpErrors = bursts.http.reduce((a, b) => a + b.errors, 0);
    const errorKinds = {};
    for (const b of bursts.http) for (const [k, v] of Object.entries(b.error_kinds)) errorKinds[k] = (errorKinds[k] ?? 0) + v;
    ctx.log(`200 concurrent: http ${httpTput.toFixed(0)}/s (${httpErrors} errors), raw ${rawTput.toFixed(0)}/s`);
    for (const [k, v] of Object.entries(errorKinds)) ctx.log(`  shell_exec error under concurrency: ${v} × ${k}`);

    const floorTput = median(bursts.http_floor.map((b) => b.calls_per_s));
    const floorErrors = bursts.http_floor.reduce((a, b) => a + b.errors, 0);
    ctx.log(`200 concurrent: bare HTTP floor ${floorTput.toFixed(0)}/s (${floorErrors} errors)`);
    const rTput = httpTput / rawTput;
    return {
      rows: [
        row(
          `200 concurrent shell_exec: errors (${burstReps} bursts)`,
          String(httpErrors),
          `raw ${bursts.raw.reduce((a, b) => a + b.errors, 0)}`,
          null,
          '0',
          httpErrors === 0,
        ),
        row(
          '200 concurrent shell_exec: throughput',
          `${round(httpTput, 0)} calls/s`,
          `raw, 8 channels ${round(rawTput, 0)} calls/s`,
          rTput,
          '≥ 0.8×',
          rTput >= 0.8,
        ),
        row(
          '200 concurrent: bare node:http + ssh2 server throughput',
          `${round(floorTput, 0)} calls/s`,
          `raw, 8 channels ${round(rawTput, 0)} calls/s`,
          floorTput / rawTput,
          '— (info)',
          null,
        ),
        row(
          '200 concurrent shell_exec vs bare HTTP server',
          `${round(httpTput, 0)} calls/s`,
          `bare ${round(floorTput, 0)} calls/s`,
          httpTput / floorTput,
          '— (info)',
          null,
        ),
      ],
      raw: { concurrency: bursts },
      notes: httpErrors ? [{ concurrency_error_kinds: errorKinds }] : [],
    };
  },
};
