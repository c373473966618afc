#!/usr/bin/env node
/**
 * `npm run bench`: the performance targets in the README's Performance section, each measured as a ratio
 * against a raw ssh2 client doing the same work in the same run, on this machine.
 *
 * The runner sets up what every scenario shares once (lib/setup.mjs: a real OpenSSH server on 127.0.0.1
 * from test/support/sshd.ts with the tests' fake nvidia-smi first on its PATH, a fake Ollama, a files
 * root, then the built server as a child process with SSH_* pointing at the sshd, two warm raw ssh2
 * connections and an MCP client), runs the selected scenarios (scenarios/*.mjs) in order, tears
 * everything down in `finally`, writes bench/results.json and prints the table (table.mjs), which a full
 * run also writes into the README between its bench:table markers.
 *
 * A scenario is { section, beforeServer?, warmUp?, run }: `beforeServer(ctx)` measures before the server
 * under test starts (start-up), `warmUp(ctx, i)` is its step in each of the ten shared warm-up rounds,
 * `run(ctx, early)` measures and returns { rows, raw, summary, notes }: the table rows, the samples for
 * results.json's `raw`, summaries for its top level, notes. The server runs as shipped (dist/bundle/cli.js);
 * the TypeScript it needs besides (the test helpers, the gpu_status command and the GPU history from src/)
 * is loaded through bench/ts-hooks.mjs.
 *
 * Environment: GHT_DIST (built server directory, default dist), BENCH_SCALE (multiplies the sample
 * counts, default 1; 0.3 for a quick look), BENCH_JSON (results file, default bench/results.json),
 * BENCH_ONLY (comma-separated sections to run, default all: startup, gpu, exec, concurrency, big, files,
 * ollama; the table then has only their rows and the README is left alone), BENCH_README (0: do not
 * write the README's table; default README.md of the repository, or the path of another file).
 *
 * Results are noisy on a shared machine: everything is warmed up first, latency samples of the things
 * compared are interleaved round by round (so a burst of load elsewhere hits all of them alike), and
 * medians are reported.
 */
import { register } from 'node:module';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createHttpClient } from './lib/http-client.mjs';
import { log } from './lib/log.mjs';
import { busyProcesses, machine, rssBytes } from './lib/machine.mjs';
import { MiB } from './lib/rows.mjs';
import { round } from './lib/stats.mjs';
import { printReport, writeReadmeTable } from './table.mjs';

register('./ts-hooks.mjs', import.meta.url);

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(repo, process.env.GHT_DIST ?? 'dist');
// The server runs as shipped: the bundle `npm run build` writes to dist/bundle/ (tsc output as fallback).
// test/support/server.ts reads GHT_DIST (relative to the cwd) when it is imported.
const SERVER_DIR = existsSync(path.join(DIST, 'bundle', 'cli.js')) ? path.join(DIST, 'bundle') : DIST;
process.env.GHT_DIST = SERVER_DIR;
const RESULTS_FILE = path.resolve(repo, process.env.BENCH_JSON ?? 'bench/results.json');
const README = process.env.BENCH_README === '0' ? null : path.resolve(repo, process.env.BENCH_README || 'README.md');
const SCALE = Math.max(0.1, Number(process.env.BENCH_SCALE ?? 1) || 1);
const API_KEY = 'bench-key-' + randomBytes(12).toString('hex');

if (!existsSync(path.join(SERVER_DIR, 'cli.js'))) {
  console.error(`bench: ${path.join(SERVER_DIR, 'cli.js')} is missing; build first (npm run build) or set GHT_DIST.`);
  process.exit(2);
}

// After register() and GHT_DIST: these load TypeScript from test/ and src/.
const { startFixtures, startServerUnderTest, warmUp } = await import('./lib/setup.mjs');
const { SCENARIOS } = await import('./scenarios/index.mjs');

const sections = SCENARIOS.map((s) => s.section);
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
for (const x of only) {
  if (!sections.includes(x)) {
    console.error(`bench: BENCH_ONLY section "${x}" is not one of ${sections.join(', ')}.`);
    process.exit(2);
  }
}
const selected = SCENARIOS.filter((s) => only.length === 0 || only.includes(s.section));
const partial = selected.length < SCENARIOS.length;

const results = {
  date: new Date().toISOString(),
  machine: await machine(repo),
  load: { loadavg_start: os.loadavg().map((x) => round(x)), busy_processes_start: await busyProcesses() },
  config: { dist: DIST, server: SERVER_DIR, scale: SCALE, sections: selected.map((s) => s.section) },
  notes: [],
  raw: {},
  rows: [],
};

const cleanups = [];
const defer = (fn) => cleanups.push(fn);
const cleanupAll = async () => {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
  cleanups.length = 0;
};
process.once('SIGINT', () => void cleanupAll().finally(() => process.exit(130)));

let http;
try {
  const benchStart = performance.now();
  log(`dist ${DIST}; ${results.machine.cores} cores, load ${results.load.loadavg_start.join(' ')}`);
  http = createHttpClient(API_KEY);
  const ctx = {
    scale: SCALE,
    /** A sample count scaled by BENCH_SCALE, at least `min`. */
    n: (count, min = 5) => Math.max(min, Math.round(count * SCALE)),
    log,
    defer,
    apiKey: API_KEY,
    serverDir: SERVER_DIR,
    http,
    ...(await startFixtures(API_KEY, defer)),
  };

  const early = new Map();
  for (const s of selected) if (s.beforeServer) early.set(s, await s.beforeServer(ctx));

  Object.assign(ctx, await startServerUnderTest(ctx, defer));
  ctx.server.idleRss = await warmUp(ctx, selected);
  results.raw.rss = { after_start: ctx.server.rssAfterStart, idle_after_warmup: ctx.server.idleRss };
  log(
    `server RSS after start ${(ctx.server.rssAfterStart / MiB).toFixed(1)} MiB, idle after warm-up ${(ctx.server.idleRss / MiB).toFixed(1)} MiB`,
  );

  for (const s of selected) {
    const out = await s.run(ctx, early.get(s));
    results.rows.push(...out.rows.map((r) => ({ section: s.section, ...r })));
    Object.assign(results.raw, out.raw);
    Object.assign(results, out.summary);
    results.notes.push(...(out.notes ?? []));
  }
  results.raw.rss.at_end = rssBytes(ctx.server.pid);

  results.load.loadavg_end = os.loadavg().map((x) => round(x));
  results.load.busy_processes_end = await busyProcesses();
  results.duration_s = round((performance.now() - benchStart) / 1000, 1);
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
  printReport(results, path.relative(process.cwd(), RESULTS_FILE));
  if (README) console.log(writeReadmeTable(README, results, { partial }));
} catch (err) {
  console.error(`bench failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
  http?.destroy();
}
// ssh2 and the MCP client may leave timers behind; the results are written.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
