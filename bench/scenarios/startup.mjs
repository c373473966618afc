/**
 * Start-up: `node dist/bundle/cli.js serve` spawned three times, timed until /healthz answers 200, with a
 * bare `node -e 0` beside each as a yardstick for how loaded the machine is. It runs before the server
 * under test starts, so nothing else of the bench loads the machine yet. Its second row, the idle RSS,
 * is read by the runner after the shared warm-up.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/sshd.ts';
import { rssBytes } from '../lib/machine.mjs';
import { MiB, mb, ms, row } from '../lib/rows.mjs';
import { median, round } from '../lib/stats.mjs';

const execFileP = promisify(execFile);

function healthzOnce(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function measureStartup(serverDir, env) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(serverDir, 'cli.js'), 'serve'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let readyMs;
  try {
    while (performance.now() - t0 < 20_000) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
      if ((await healthzOnce(port)) === 200) {
        readyMs = performance.now() - t0;
        break;
      }
      await sleep(5);
    }
    if (readyMs === undefined) throw new Error(`no /healthz 200 within 20 s:\n${output}`);
    const selfReported = /in (\d+) ms/.exec(output)?.[1];
    return { readyMs, rssAtReady: rssBytes(child.pid), selfReportedMs: selfReported ? Number(selfReported) : null };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([once(child, 'exit'), sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export const startup = {
  section: 'startup',

  async beforeServer(ctx) {
    const bareNode = [];
    const startups = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await execFileP(process.execPath, ['-e', '0']);
      bareNode.push(performance.now() - t);
      startups.push(await measureStartup(ctx.serverDir, ctx.serverEnv));
    }
    ctx.log(
      `start-up to /healthz: ${startups.map((s) => Math.round(s.readyMs)).join(', ')} ms (bare node ${bareNode.map(Math.round).join(', ')} ms)`,
    );
    return { bareNode, startups };
  },

  async run(ctx, { bareNode, startups }) {
    const startMs = median(startups.map((s) => s.readyMs));
    const idleRss = ctx.server.idleRss;
    return {
      rows: [
        row(
          'start-up to /healthz 200 (median of 3)',
          ms(startMs),
          `bare node -e 0 ${ms(median(bareNode))}`,
          null,
          '≤ 1500 ms',
          startMs <= 1500,
        ),
        row('idle RSS after start + warm-up', mb(idleRss), '—', null, '≤ 150 MB', idleRss <= 150 * MiB),
      ],
      raw: {
        startup: {
          runs: startups.map((s) => ({ ...s, readyMs: round(s.readyMs, 1) })),
          bare_node_ms: bareNode.map((x) => round(x, 1)),
        },
      },
    };
  },
};
