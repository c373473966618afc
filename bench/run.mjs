#!/usr/bin/env node
/**
 * `npm run bench`: the performance targets in the README's Performance section, each measured as a ratio
 * against a raw ssh2 client doing the same work in the same run, on this machine.
 *
 * It starts its own OpenSSH server (test/support/sshd.ts, a real sshd on 127.0.0.1), installs the tests'
 * fake nvidia-smi first on that sshd's PATH (test/support/fake-nvidia-smi.ts + .sh and the captured
 * fixtures), a fake Ollama, and the built server as a child process (test/support/server.ts) with SSH_*
 * pointing at the sshd. The TypeScript helpers are loaded through bench/ts-hooks.mjs (TypeScript's own
 * transpiler; Node 20 cannot strip types).
 *
 * Environment: GHT_DIST (built server directory, default dist), BENCH_SCALE (multiplies the sample
 * counts, default 1; 0.3 for a quick look), BENCH_JSON (results file, default bench/results.json),
 * BENCH_ONLY (comma-separated sections to run, default all: startup, gpu, exec, concurrency, big, files;
 * the table then has only their rows).
 *
 * Results are noisy on a shared machine: everything is warmed up first, latency samples of the things
 * compared are interleaved round by round (so a burst of load elsewhere hits all of them alike), and
 * medians are reported.
 */
import { register } from 'node:module';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setInterval, clearInterval } from 'node:timers';
import { promisify } from 'node:util';

register('./ts-hooks.mjs', import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const DIST = path.resolve(repo, process.env.GHT_DIST ?? 'dist');
// The server runs as shipped: the bundle `npm run build` writes to dist/bundle/ (tsc output as fallback).
// test/support/server.ts reads GHT_DIST (relative to the cwd) when it is imported.
const SERVER_DIR = existsSync(path.join(DIST, 'bundle', 'cli.js')) ? path.join(DIST, 'bundle') : DIST;
process.env.GHT_DIST = SERVER_DIR;
const RESULTS_FILE = path.resolve(repo, process.env.BENCH_JSON ?? 'bench/results.json');
const SCALE = Math.max(0.1, Number(process.env.BENCH_SCALE ?? 1) || 1);
const n = (count, min = 5) => Math.max(min, Math.round(count * SCALE));
const SECTIONS = ['startup', 'gpu', 'exec', 'concurrency', 'big', 'files'];
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
for (const x of ONLY) {
  if (!SECTIONS.includes(x)) {
    console.error(`bench: BENCH_ONLY section "${x}" is not one of ${SECTIONS.join(', ')}.`);
    process.exit(2);
  }
}
/** Whether a section runs; a skipped section's numbers stay empty and its rows are left out of the table. */
const want = (section) => ONLY.length === 0 || ONLY.includes(section);
/** The section a table row belongs to, from its metric name. */
const sectionOfRow = (metric) =>
  /^gpu_status/.test(metric)
    ? 'gpu'
    : /^exec 'true'/.test(metric)
      ? 'exec'
      : /^200 concurrent/.test(metric)
        ? 'concurrency'
        : /^1 GiB output/.test(metric)
          ? 'big'
          : /^(files_|raw SFTP)/.test(metric)
            ? 'files'
            : 'startup';

if (!existsSync(path.join(DIST, 'cli.js'))) {
  console.error(`bench: ${path.join(DIST, 'cli.js')} is missing; build first (npm run build) or set GHT_DIST.`);
  process.exit(2);
}

const { startSshd, freePort } = await import('../test/support/sshd.ts');
const { installFakeNvidiaSmi } = await import('../test/support/fake-nvidia-smi.ts');
const { startFakeOllama } = await import('../test/support/fake-ollama.ts');
const { startServer } = await import('../test/support/server.ts');
const { connectMcp } = await import('../test/support/mcp-client.ts');
const { buildGpuStatusCommand } = await import(pathToFileURL(path.join(DIST, 'modules/gpu/nvidia-smi.js')).href);
const ssh2 = (await import('ssh2')).default;

const execFileP = promisify(execFile);
const API_KEY = 'bench-key-' + randomBytes(12).toString('hex');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

// ---------------------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  // Nearest rank: the value at or above q of the samples.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function stats(samples) {
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

const median = (xs) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function log(...args) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// HTTP client: node:http, one keep-alive agent, no-delay on every socket (what a decent client does).

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/**
 * Drop the idle keep-alive sockets. Before a section that follows a long pause: the server closes an idle
 * connection after 5 s (Node's keepAliveTimeout), and a request sent on it just then fails with
 * ECONNRESET / "socket hang up", a client-side race that says nothing about the server.
 */
function dropIdleSockets(a = agent) {
  for (const list of Object.values(a.freeSockets)) for (const s of list ?? []) s.destroy();
}

function request(base, method, pathname, { query, body, timeoutMs = 120_000, via = agent } = {}) {
  const url = new URL(pathname, base);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
  const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers = { authorization: `Bearer ${API_KEY}`, accept: 'application/json' };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: via, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        // Timed to the last byte of the answer: what the server costs, not the client's JSON.parse.
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, body: json, text, ms });
      });
      res.on('error', reject);
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Raw ssh2 client (the baseline): what the server does, minus the server.

function hostVerifierFor(fingerprint) {
  return (key) => 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '') === fingerprint;
}

/** noDelay: true = our own socket with TCP_NODELAY (as the product does); false = ssh2's default socket. */
function rawConnect(sshd, { noDelay }) {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const config = {
      username: sshd.username,
      privateKey: readFileSync(sshd.privateKeyPath),
      hostVerifier: hostVerifierFor(sshd.hostKeyFingerprint),
      readyTimeout: 30_000,
    };
    if (noDelay) {
      const sock = new net.Socket();
      sock.setNoDelay(true);
      sock.on('connect', () => sock.setNoDelay(true));
      sock.on('error', () => {});
      sock.connect(sshd.port, sshd.host);
      config.sock = sock;
    } else {
      config.host = sshd.host;
      config.port = sshd.port;
    }
    client.once('ready', () => {
      client.removeListener('error', reject);
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', reject);
    client.connect(config);
  });
}

/** One exec: open a session channel, EOF its stdin, collect stdout (or only count it), wait for close. */
function rawExec(client, command, { keep = true } = {}) {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      const chunks = [];
      let bytes = 0;
      let code = null;
      ch.on('data', (d) => {
        bytes += d.length;
        if (keep) chunks.push(d);
      });
      ch.stderr.on('data', () => {});
      ch.on('exit', (c) => (code = c));
      ch.on('close', () => resolve({ code, bytes, stdout: keep ? Buffer.concat(chunks).toString('utf8') : '' }));
      ch.end();
    });
  });
}

/**
 * sshd may refuse an open right after a close (it frees the session in its next pass, MaxSessions). The
 * best a plain client can do is ask again at once: each refusal is a round trip, no sleep is needed, and
 * the baseline must not be slowed by a back-off the server then looks good against.
 */
async function rawExecRetrying(client, command, counters) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rawExec(client, command);
    } catch (err) {
      if (attempt >= 100) throw err;
      counters.retries++;
    }
  }
}

function rawClose(client) {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      client.destroy();
      resolve();
    }, 2000);
    client.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    client.end();
  });
}

function rawSftp(client) {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

// ---------------------------------------------------------------------------------------------------------
// Start-up: spawn `node dist/bundle/cli.js serve`, poll /healthz until 200.

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

async function measureStartup(env) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(SERVER_DIR, 'cli.js'), 'serve'], {
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

// ---------------------------------------------------------------------------------------------------------
// Machine description

async function machine() {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) osName = `${pretty} (${os.type()} ${os.release()} ${os.arch()})`;
  } catch {
    /* not Linux */
  }
  let openssh;
  try {
    const r = await execFileP('ssh', ['-V']);
    openssh = (r.stderr || r.stdout).trim();
  } catch (err) {
    openssh = (err.stderr ?? '').trim() || null;
  }
  const cpus = os.cpus();
  return {
    os: osName,
    cpu_model: cpus[0]?.model ?? null,
    cores: cpus.length,
    memory_total_mb: Math.round(os.totalmem() / MiB),
    node: process.version,
    openssh,
    ssh2: JSON.parse(readFileSync(path.join(repo, 'node_modules/ssh2/package.json'), 'utf8')).version,
  };
}

async function busyProcesses() {
  try {
    const r = await execFileP('ps', ['-eo', 'pcpu,rss,args', '--sort=-pcpu', '--no-headers']);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .slice(0, 8)
      .map((l) => l.trim().slice(0, 160));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------------------
// The run

const results = {
  date: new Date().toISOString(),
  machine: await machine(),
  load: { loadavg_start: os.loadavg().map((x) => round(x)), busy_processes_start: await busyProcesses() },
  config: { dist: DIST, server: SERVER_DIR, scale: SCALE, sections: SECTIONS.filter(want) },
  notes: [],
  raw: {},
  rows: [],
};

const cleanups = [];
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

/** Runs `fn(i)` for rounds 0.. until `max` rounds or `budgetMs` elapsed, but at least `min` rounds. */
/**
 * Memory of 24 hours of 1-s history for 8 GPUs (two processes each): the built HostGpuHistory filled in a
 * fresh node with --expose-gc, heap and array buffers measured after full collections.
 */
async function measureHistoryMemory() {
  const moduleUrl = pathToFileURL(path.join(DIST, 'modules/gpu/gpu-history.js')).href;
  const script = `
    const { HostGpuHistory } = await import(${JSON.stringify(moduleUrl)});
    const gpu = (i) => ({ index: i, uuid: 'GPU-' + i, name: 'bench', utilization_percent: 50, memory_used_mb: 1000,
      memory_total_mb: 11264, temperature_celsius: 60, power_draw_watts: 200 });
    const gpus = Array.from({ length: 8 }, (_, i) => gpu(i));
    gc(); const before = process.memoryUsage();
    const h = new HostGpuHistory(1000);
    const t0 = Date.UTC(2026, 0, 1);
    for (let s = 0; s < 24 * 3600; s++) {
      const procs = gpus.flatMap((g) => [
        { gpu_index: g.index, gpu_uuid: g.uuid, pid: 1000 + (s % 7), process_name: 'ollama', used_memory_mb: 100 + (s % 50) },
        { gpu_index: g.index, gpu_uuid: g.uuid, pid: 2000 + (s % 11), process_name: 'python3', used_memory_mb: 50 },
      ]);
      h.add(t0 + s * 1000, gpus, procs);
    }
    gc(); const after = process.memoryUsage();
    if (h.window(t0 + 24 * 3600_000 - 1000, 1440 * 60_000).gpus.length !== 8) throw new Error('history lost a GPU');
    const heap = after.heapUsed - before.heapUsed, buffers = after.arrayBuffers - before.arrayBuffers;
    console.log(JSON.stringify({ bytes: heap + buffers, heap, array_buffers: buffers }));
  `;
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', '--input-type=module', '-e', script]);
  return JSON.parse(stdout.trim().split('\n').pop());
}

async function rounds(min, max, budgetMs, fn) {
  const t0 = performance.now();
  let i = 0;
  for (; i < max && (i < min || performance.now() - t0 < budgetMs); i++) await fn(i);
  return i;
}

try {
  const benchStart = performance.now();
  log(`dist ${DIST}; ${results.machine.cores} cores, load ${results.load.loadavg_start.join(' ')}`);

  // --- fixtures: sshd, fake nvidia-smi, fake Ollama, files root ---------------------------------------
  const sshd = await startSshd();
  cleanups.push(() => sshd.dispose());
  installFakeNvidiaSmi(sshd.binDir);
  const ollama = await startFakeOllama();
  cleanups.push(() => ollama.stop());
  const filesRoot = mkdtempSync(path.join(os.tmpdir(), 'ght-bench-files-'));
  cleanups.push(() => rmSync(filesRoot, { recursive: true, force: true }));
  writeFileSync(path.join(filesRoot, 'small.txt'), 'x'.repeat(1023) + '\n');
  const bigFile = path.join(filesRoot, 'big.bin');
  const fd = openSync(bigFile, 'w');
  ftruncateSync(fd, GiB); // sparse: no disk used; reads as zeros (so files_read answers base64)
  closeSync(fd);
  // The same, but ending in 256 KiB of log lines (the "end of a log" case): the page is text, not base64.
  const logFile = path.join(filesRoot, 'big-log.txt');
  const logFd = openSync(logFile, 'w');
  ftruncateSync(logFd, GiB);
  const logLine = (i) => `2026-01-01T00:00:00Z ollama[1234]: level=INFO msg="request ${String(i).padStart(8, '0')} served"\n`;
  const logTail = Buffer.from(Array.from({ length: 4096 }, (_, i) => logLine(i)).join('')).subarray(0, 256 * 1024);
  writeSync(logFd, logTail, 0, logTail.length, GiB - logTail.length);
  closeSync(logFd);

  const serverEnv = {
    SSH_HOST: sshd.host,
    SSH_PORT: String(sshd.port),
    SSH_USER: sshd.username,
    SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath,
    SSH_KNOWN_HOSTS: sshd.knownHostsPath,
    HOST_NAME: 'bench',
    API_KEY,
    FILES_ROOT: filesRoot,
    OLLAMA_URL: ollama.url,
  };

  // --- start-up time (separate processes, before anything else loads the machine) ----------------------
  // A bare `node -e 0` alongside, as a yardstick for how loaded the machine is.
  const bareNode = [];
  const startups = [];
  for (let i = 0; i < (want('startup') ? 3 : 0); i++) {
    const t = performance.now();
    await execFileP(process.execPath, ['-e', '0']);
    bareNode.push(performance.now() - t);
    startups.push(await measureStartup(serverEnv));
  }
  results.raw.startup = {
    runs: startups.map((s) => ({ ...s, readyMs: round(s.readyMs, 1) })),
    bare_node_ms: bareNode.map((x) => round(x, 1)),
  };
  log(
    `start-up to /healthz: ${startups.map((s) => Math.round(s.readyMs)).join(', ')} ms (bare node ${bareNode.map(Math.round).join(', ')} ms)`,
  );

  // --- the server under test ---------------------------------------------------------------------------
  const server = await startServer(serverEnv, 30_000);
  cleanups.push(() => server.stop());
  const base = server.url;
  const pid = server.process.pid;
  const rssAfterStart = rssBytes(pid);

  // --- raw clients -------------------------------------------------------------------------------------
  const rawNd = await rawConnect(sshd, { noDelay: true });
  cleanups.push(() => rawClose(rawNd));
  const rawDefault = await rawConnect(sshd, { noDelay: false });
  cleanups.push(() => rawClose(rawDefault));
  const mcp = await connectMcp(base, API_KEY);
  cleanups.push(() => mcp.close());

  // The command the server runs for gpu_status once it has read the driver and CUDA versions (it
  // caches them per host): the baselines do exactly the same remote work.
  const GPU_CMD = buildGpuStatusCommand('nvidia-smi', { version: false });
  const check = (cond, what) => {
    if (!cond) throw new Error(`bench sanity check failed: ${what}`);
  };

  // Each measurement returns its own duration in ms (HTTP: to the last byte of the answer).
  // gpu_status answers from the sampler's reading; its age (collected_at - sampled_at) is kept per answer.
  const sampleAges = [];
  const httpGpu = async () => {
    const r = await request(base, 'GET', '/gpu/status');
    check(r.status === 200 && r.body?.gpus?.length > 0, `gpu_status over HTTP answered ${r.status} ${r.text.slice(0, 300)}`);
    sampleAges.push(Date.parse(r.body.collected_at) - Date.parse(r.body.sampled_at));
    return r.ms;
  };
  // The same server's cheapest round trip: no remote work at all.
  const httpHealthz = async () => {
    const r = await request(base, 'GET', '/healthz');
    check(r.status === 200, `/healthz answered ${r.status}`);
    return r.ms;
  };
  const mcpGpu = async () => {
    const t = performance.now();
    const r = await mcp.client.callTool({ name: 'gpu_status', arguments: {} });
    const ms = performance.now() - t;
    check(!r.isError && JSON.parse(r.content[0].text).gpus.length > 0, `gpu_status over MCP: ${JSON.stringify(r).slice(0, 300)}`);
    return ms;
  };
  const rawRun = (client, command, expect) => async () => {
    const t = performance.now();
    const r = await rawExec(client, command);
    const ms = performance.now() - t;
    check(r.code === 0 && expect(r.stdout), `raw exec of ${command.slice(0, 40)}: code ${r.code}`);
    return ms;
  };
  const gpuOk = (out) => out.includes('@@gpu-host-tools:end:apps:0@@');
  const connectPerCall = (command) => async () => {
    // The seed's way: a new ssh2 connection (ssh2's own socket), one exec, close. Timed until the result.
    const t = performance.now();
    const c = await rawConnect(sshd, { noDelay: false });
    const r = await rawExec(c, command);
    const ms = performance.now() - t;
    c.end();
    check(r.code === 0, 'connect-per-call exec');
    await Promise.race([once(c, 'close'), sleep(2000)]).catch(() => {});
    return ms;
  };
  const httpShell = (command, expect) => async () => {
    const r = await request(base, 'POST', '/shell/exec', { body: { command } });
    check(r.status === 200 && expect(r.body), `shell_exec ${command}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.ms;
  };

  /** Interleaved latency samples: each round runs every method once, in a rotating order. */
  async function latency(methods, { min, max, budgetMs, section }) {
    const samples = Object.fromEntries(methods.map(([name]) => [name, []]));
    if (!want(section)) return { samples, rounds: 0 };
    const done = await rounds(min, max, budgetMs, async (i) => {
      const due = methods.filter(([, , every = 1]) => i % every === 0);
      for (let k = 0; k < due.length; k++) {
        const [name, fn] = due[(i + k) % due.length];
        samples[name].push(await fn());
      }
    });
    return { samples, rounds: done };
  }

  // Warm-up (also the "few requests" before the idle RSS reading).
  for (let i = 0; i < 10; i++) {
    if (want('gpu')) {
      await httpGpu();
      await mcpGpu();
      await rawRun(rawNd, GPU_CMD, gpuOk)();
      if (i % 4 === 0) await rawRun(rawDefault, GPU_CMD, gpuOk)();
    }
    await httpShell('true', () => true)();
  }
  await request(base, 'GET', '/healthz');
  await request(base, 'GET', '/files/read', { query: { path: 'small.txt' } });
  await sleep(1000);
  const idleRss = rssBytes(pid);
  results.raw.rss = { after_start: rssAfterStart, idle_after_warmup: idleRss };
  log(`server RSS after start ${(rssAfterStart / MiB).toFixed(1)} MiB, idle after warm-up ${(idleRss / MiB).toFixed(1)} MiB`);

  // --- gpu_status latency, interleaved -----------------------------------------------------------------
  sampleAges.length = 0; // the warm-up's first answers came before the sampler's first reading
  const gpuRun = await latency(
    [
      ['http', httpGpu],
      ['healthz', httpHealthz],
      ['mcp', mcpGpu],
      ['raw_nodelay', rawRun(rawNd, GPU_CMD, gpuOk)],
      ['raw_default', rawRun(rawDefault, GPU_CMD, gpuOk), 3],
      ['connect_per_call', connectPerCall(GPU_CMD), 4],
    ],
    { min: n(40, 12), max: n(150, 20), budgetMs: 35_000 * SCALE, section: 'gpu' },
  );
  results.raw.gpu_status_ms = gpuRun.samples;
  results.raw.gpu_sample_age_ms = sampleAges;
  const gs = Object.fromEntries(Object.entries(gpuRun.samples).map(([k, v]) => [k, stats(v)]));
  results.gpu_status = gs;
  const ages = stats(sampleAges);
  results.gpu_sample_age = ages;
  log(`gpu_status sample age ms: p50 ${ages.p50}, max ${ages.max}`);

  // --- 24 hours of history for 8 GPUs: the ring buffers' memory, in a process of its own ---------------
  results.gpu_history_memory = await measureHistoryMemory();
  log(`gpu_history memory for 8 GPUs x 24 h: ${(results.gpu_history_memory.bytes / MiB).toFixed(2)} MiB`);
  log(
    `gpu_status p50 ms (${gpuRun.rounds} rounds): ${Object.entries(gs)
      .map(([k, v]) => `${k} ${v.p50}`)
      .join(', ')}`,
  );

  // --- the same for a trivial command: the transport's own cost, without the remote work -----------
  const trivialRun = await latency(
    [
      ['http_shell_exec', httpShell('true', (b) => b.exit_code === 0 || b.exit_code === null)],
      ['raw_nodelay', rawRun(rawNd, 'true', () => true)],
      ['raw_default', rawRun(rawDefault, 'true', () => true), 2],
      ['connect_per_call', connectPerCall('true'), 3],
    ],
    { min: n(40, 12), max: n(150, 20), budgetMs: 15_000 * SCALE, section: 'exec' },
  );
  results.raw.trivial_exec_ms = trivialRun.samples;
  const ts = Object.fromEntries(Object.entries(trivialRun.samples).map(([k, v]) => [k, stats(v)]));
  results.trivial_exec = ts;
  log(
    `exec 'true' p50 ms (${trivialRun.rounds} rounds): ${Object.entries(ts)
      .map(([k, v]) => `${k} ${v.p50}`)
      .join(', ')}`,
  );

  // --- 200 concurrent shell_exec -----------------------------------------------------------------------
  const CONCURRENT = 200;
  const CHANNELS = 8;
  const httpBurst = async (count = CONCURRENT) => {
    // Its own keep-alive agent per burst (200 connections, like 200 clients), opened inside the timing.
    const burstAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const t = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        request(base, 'POST', '/shell/exec', { body: { command: `echo ${i}` }, via: burstAgent }).then(
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
  };
  const rawBurst = async (count = CONCURRENT) => {
    const counters = { retries: 0 };
    const t = performance.now();
    let next = 0;
    const errors = [];
    const worker = async () => {
      while (next < count) {
        const i = next++;
        try {
          const r = await rawExecRetrying(rawNd, `echo ${i}`, counters);
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
  };
  // A smaller unmeasured burst each first: opens the client's keep-alive sockets, warms the handlers.
  if (want('concurrency')) {
    await rawBurst(50);
    await httpBurst(50);
  }
  const bursts = { http: [], raw: [] };
  const burstReps = want('concurrency') ? n(3, 2) : 0;
  for (let i = 0; i < burstReps; i++) {
    if (i % 2 === 0) {
      bursts.raw.push(await rawBurst());
      bursts.http.push(await httpBurst());
    } else {
      bursts.http.push(await httpBurst());
      bursts.raw.push(await rawBurst());
    }
  }
  results.raw.concurrency = bursts;
  const httpTput = median(bursts.http.map((b) => b.calls_per_s));
  const rawTput = median(bursts.raw.map((b) => b.calls_per_s));
  const httpErrors = bursts.http.reduce((a, b) => a + b.errors, 0);
  const errorKinds = {};
  for (const b of bursts.http) for (const [k, v] of Object.entries(b.error_kinds)) errorKinds[k] = (errorKinds[k] ?? 0) + v;
  log(`200 concurrent: http ${httpTput.toFixed(0)}/s (${httpErrors} errors), raw ${rawTput.toFixed(0)}/s`);

  // --- 1 GiB of output ---------------------------------------------------------------------------------
  const BIG_CMD = `head -c ${GiB} /dev/zero`;
  const bigRuns = [];
  const rawBigRuns = [];
  for (let i = 0; i < (want('big') ? n(2, 1) : 0); i++) {
    {
      const t = performance.now();
      const r = await rawExec(rawNd, BIG_CMD, { keep: false });
      check(r.bytes === GiB, `raw 1 GiB read ${r.bytes} bytes`);
      rawBigRuns.push(performance.now() - t);
    }
    const before = [];
    for (let k = 0; k < 5; k++) {
      before.push(rssBytes(pid));
      await sleep(50);
    }
    const rssBefore = median(before);
    let rssMax = rssBefore;
    const samples = [];
    const timer = setInterval(() => {
      const v = rssBytes(pid);
      samples.push(v);
      if (v > rssMax) rssMax = v;
    }, 50);
    let r;
    dropIdleSockets();
    try {
      r = await request(base, 'POST', '/shell/exec', { body: { command: BIG_CMD } });
    } finally {
      clearInterval(timer);
    }
    const after = rssBytes(pid);
    if (after > rssMax) rssMax = after;
    check(r.status === 200, `1 GiB shell_exec answered ${r.status} ${r.text.slice(0, 300)}`);
    bigRuns.push({
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
    });
    log(
      `1 GiB: http ${Math.round(r.ms)} ms (stdout_bytes read ${r.body.stdout_bytes}, output_limit_reached ${r.body.output_limit_reached}, exit ${r.body.exit_code}, signal ${r.body.signal}), raw ${Math.round(rawBigRuns.at(-1))} ms, RSS +${((rssMax - rssBefore) / MiB).toFixed(1)} MiB`,
    );
  }
  results.raw.big_output = { http: bigRuns, raw_ms: rawBigRuns };

  // --- files_read: tail of a 1 GiB file vs a 1 KiB file ------------------------------------------------
  const tailOffset = GiB - 256 * 1024;
  const httpRead = (query, length) => async () => {
    const r = await request(base, 'GET', '/files/read', { query });
    check(r.status === 200 && r.body.length_bytes === length, `files_read ${JSON.stringify(query)}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.ms;
  };
  const sftp = await rawSftp(rawNd);
  const sftpCall = (method, ...args) =>
    new Promise((resolve, reject) => sftp[method](...args, (err, ...rest) => (err ? reject(err) : resolve(rest))));
  const rawRead = (file, offset, length) => async () => {
    // open + fstat + read (64 KiB requests, all in flight) + close: what files_read does, minus the rest.
    const t = performance.now();
    const [handle] = await sftpCall('open', file, 'r');
    await sftpCall('fstat', handle);
    const buf = Buffer.allocUnsafe(length);
    const parts = [];
    for (let off = 0; off < length; off += 65536)
      parts.push(sftpCall('read', handle, buf, off, Math.min(65536, length - off), offset + off));
    const got = (await Promise.all(parts)).reduce((a, [bytes]) => a + bytes, 0);
    await sftpCall('close', handle);
    const ms = performance.now() - t;
    check(got === length, `raw SFTP read ${got} of ${length}`);
    return ms;
  };
  const readMethods = [
    ['small_1k', httpRead({ path: 'small.txt' }, 1024)],
    ['tail_256k_of_1g', httpRead({ path: 'big.bin', offset: tailOffset, max_bytes: 256 * 1024 }, 256 * 1024)],
    ['tail_1k_of_1g', httpRead({ path: 'big.bin', offset: GiB - 1024, max_bytes: 1024 }, 1024)],
    ['text_tail_256k_of_1g', httpRead({ path: 'big-log.txt', offset: tailOffset, max_bytes: 256 * 1024 }, 256 * 1024)],
    ['raw_sftp_small_1k', rawRead(path.join(filesRoot, 'small.txt'), 0, 1024)],
    ['raw_sftp_tail_256k_of_1g', rawRead(bigFile, tailOffset, 256 * 1024)],
  ];
  dropIdleSockets();
  for (let i = 0; i < (want('files') ? 5 : 0); i++) for (const [, fn] of readMethods) await fn();
  // Server memory while it serves 50 reads of the last 256 KiB of the 1 GiB file in a row.
  const readRssBefore = rssBytes(pid);
  let readRssMax = readRssBefore;
  const readRssTimer = setInterval(() => (readRssMax = Math.max(readRssMax, rssBytes(pid))), 20);
  for (let i = 0; i < (want('files') ? 50 : 0); i++) await readMethods[1][1]();
  clearInterval(readRssTimer);
  results.files_read_rss = { before: readRssBefore, max: readRssMax, growth: readRssMax - readRssBefore };
  const readRun = await latency(readMethods, { min: n(40, 15), max: n(80, 15), budgetMs: 10_000 * SCALE, section: 'files' });
  results.raw.files_read_ms = readRun.samples;
  const rs = Object.fromEntries(Object.entries(readRun.samples).map(([k, v]) => [k, stats(v)]));
  results.files_read = rs;
  log(
    `files_read p50: 1 KiB ${rs.small_1k.p50} ms, 256 KiB tail of 1 GiB ${rs.tail_256k_of_1g.p50} ms, 1 KiB tail of 1 GiB ${rs.tail_1k_of_1g.p50} ms`,
  );

  // --- files_write 10 MiB vs raw SFTP ------------------------------------------------------------------
  const payload = randomBytes(10 * MiB);
  const writeBody = JSON.stringify({ path: 'written.bin', content: payload.toString('base64'), encoding: 'base64' });
  const httpWrite = async () => {
    const r = await request(base, 'POST', '/files/write', { body: writeBody });
    check(r.status === 200 || r.status === 201, `files_write: ${r.status} ${r.text.slice(0, 300)}`);
    check(r.body.size_bytes === payload.length, 'files_write size');
    return r.ms;
  };
  const rawWrite = async () => {
    // ssh2's writeFile: open, write (ssh2 splits it by the server's write limit), close.
    const t = performance.now();
    await sftpCall('writeFile', path.join(filesRoot, 'raw-written.bin'), payload);
    return performance.now() - t;
  };
  const rawWriteSameWork = async () => {
    // What files_write does over SFTP: temp file, 64 KiB writes 8 in flight, fsync, close, rename.
    const t = performance.now();
    const temp = path.join(filesRoot, `.raw-${randomBytes(4).toString('hex')}.tmp`);
    const [handle] = await sftpCall('open', temp, 'wx');
    let next = 0;
    const worker = async () => {
      while (next < payload.length) {
        const off = next;
        next += 65536;
        await sftpCall('write', handle, payload, off, Math.min(65536, payload.length - off), off);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await sftpCall('ext_openssh_fsync', handle);
    await sftpCall('close', handle);
    await sftpCall('ext_openssh_rename', temp, path.join(filesRoot, 'raw-written-2.bin'));
    return performance.now() - t;
  };
  const writeMethods = [
    ['http', httpWrite],
    ['raw_sftp', rawWrite],
    ['raw_sftp_same_steps', rawWriteSameWork],
  ];
  dropIdleSockets();
  if (want('files')) for (const [, fn] of writeMethods) await fn();
  const writeRun = await latency(writeMethods, { min: n(5, 3), max: n(10, 3), budgetMs: 10_000 * SCALE, section: 'files' });
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  if (want('files')) check(sha(readFileSync(path.join(filesRoot, 'written.bin'))) === sha(payload), 'written file content');
  sftp.end();
  results.raw.files_write_ms = writeRun.samples;
  const ws = Object.fromEntries(Object.entries(writeRun.samples).map(([k, v]) => [k, stats(v)]));
  results.files_write = ws;
  log(`files_write 10 MiB p50: http ${ws.http.p50} ms, raw SFTP ${ws.raw_sftp.p50} ms, raw same steps ${ws.raw_sftp_same_steps.p50} ms`);

  // --- Ollama through the SSH connection (the default for an ssh host) vs the same server dialling it ---
  const directServer = await startServer({ ...serverEnv, OLLAMA_TUNNEL: 'false' }, 30_000);
  cleanups.push(() => directServer.stop());
  const httpOllamaVersion = (on) => async () => {
    const r = await request(on, 'GET', '/ollama/version');
    check(r.status === 200 && r.body?.version, `ollama_version: ${r.status} ${r.text.slice(0, 300)}`);
    return r.ms;
  };
  for (let i = 0; i < 5; i++) await Promise.all([httpOllamaVersion(base)(), httpOllamaVersion(directServer.url)()]);
  const ollamaRun = await latency(
    [
      ['tunnel', httpOllamaVersion(base)],
      ['direct', httpOllamaVersion(directServer.url)],
    ],
    { min: n(40, 12), max: n(200, 20), budgetMs: 10_000 * SCALE },
  );
  await directServer.stop();
  results.raw.ollama_version_ms = ollamaRun.samples;
  const ov = Object.fromEntries(Object.entries(ollamaRun.samples).map(([k, v]) => [k, stats(v)]));
  results.ollama_version = ov;
  log(`ollama_version p50 (${ollamaRun.rounds} rounds): through the SSH tunnel ${ov.tunnel.p50} ms, direct ${ov.direct.p50} ms`);

  results.raw.rss.at_end = rssBytes(pid);

  // --- the table ---------------------------------------------------------------------------------------
  const ms = (x) => `${round(x, 1)} ms`;
  const mb = (x) => `${round(x / MiB, 1)} MB`;
  const rows = [];
  const row = (metric, measured, baseline, ratio, target, met) =>
    rows.push({
      metric,
      measured,
      baseline,
      ratio: ratio === null ? '' : `${round(ratio, 2)}×`,
      target,
      met: met === null ? '' : met ? 'yes' : 'NO',
    });

  const rHealthz = gs.http.p50 / gs.healthz.p50;
  row('gpu_status HTTP p50 vs /healthz', ms(gs.http.p50), `/healthz ${ms(gs.healthz.p50)}`, rHealthz, '≤ 1.5×', rHealthz <= 1.5);
  const rGpu50 = gs.http.p50 / gs.raw_nodelay.p50;
  row('gpu_status HTTP p50 vs raw exec', ms(gs.http.p50), `raw warm no-delay ${ms(gs.raw_nodelay.p50)}`, rGpu50, '— (info)', null);
  row('gpu_status HTTP p95', ms(gs.http.p95), `raw warm no-delay ${ms(gs.raw_nodelay.p95)}`, gs.http.p95 / gs.raw_nodelay.p95, '—', null);
  const speedup = gs.connect_per_call.p50 / gs.http.p50;
  row(
    'gpu_status HTTP p50 vs connect-per-call',
    ms(gs.http.p50),
    `connect-per-call ${ms(gs.connect_per_call.p50)}`,
    speedup,
    '≥ 20× faster',
    speedup >= 20,
  );
  row('gpu_status sample age (max over the run)', ms(ages.max), `p50 ${ms(ages.p50)}`, null, '≤ 2000 ms', ages.max <= 2000);
  const hist = results.gpu_history_memory;
  row('gpu_history: 24 h for 8 GPUs, memory', mb(hist.bytes), `typed arrays ${mb(hist.array_buffers)}`, null, '≤ 8 MB', hist.bytes <= 8e6);
  row('gpu_status MCP p50', ms(gs.mcp.p50), `raw warm no-delay ${ms(gs.raw_nodelay.p50)}`, gs.mcp.p50 / gs.raw_nodelay.p50, '—', null);
  row('gpu_status MCP p95', ms(gs.mcp.p95), `raw warm no-delay ${ms(gs.raw_nodelay.p95)}`, gs.mcp.p95 / gs.raw_nodelay.p95, '—', null);
  row(
    'gpu_status raw warm default socket p50',
    ms(gs.raw_default.p50),
    `raw warm no-delay ${ms(gs.raw_nodelay.p50)}`,
    gs.raw_default.p50 / gs.raw_nodelay.p50,
    '—',
    null,
  );
  const rTrivial = ts.http_shell_exec.p50 / ts.raw_nodelay.p50;
  row(
    "exec 'true': shell_exec HTTP p50",
    ms(ts.http_shell_exec.p50),
    `raw warm no-delay ${ms(ts.raw_nodelay.p50)}`,
    rTrivial,
    '≤ 1.5×',
    rTrivial <= 1.5,
  );
  row(
    "exec 'true': raw warm default socket p50",
    ms(ts.raw_default.p50),
    `raw warm no-delay ${ms(ts.raw_nodelay.p50)}`,
    ts.raw_default.p50 / ts.raw_nodelay.p50,
    '— (info)',
    null,
  );
  const trivialSpeedup = ts.connect_per_call.p50 / ts.http_shell_exec.p50;
  row(
    "exec 'true': shell_exec HTTP vs connect-per-call",
    ms(ts.http_shell_exec.p50),
    `connect-per-call ${ms(ts.connect_per_call.p50)}`,
    trivialSpeedup,
    '— (info)',
    null,
  );
  row(
    `200 concurrent shell_exec: errors (${burstReps} bursts)`,
    String(httpErrors),
    `raw ${bursts.raw.reduce((a, b) => a + b.errors, 0)}`,
    null,
    '0',
    httpErrors === 0,
  );
  const rTput = httpTput / rawTput;
  row(
    '200 concurrent shell_exec: throughput',
    `${round(httpTput, 0)} calls/s`,
    `raw, 8 channels ${round(rawTput, 0)} calls/s`,
    rTput,
    '≥ 0.8×',
    rTput >= 0.8,
  );
  const bigMs = median(bigRuns.map((b) => b.ms));
  const bigRaw = median(rawBigRuns);
  // Since shell.max_read_bytes the server ends such a command after 16 MiB; the raw client reads all of it.
  const bigRead = median(bigRuns.map((b) => b.stdout_bytes));
  row(
    `1 GiB output: time to answer (read ${round(bigRead / MiB, 1)} MiB${bigRuns.every((b) => b.output_limit_reached) ? ', then ended' : ''})`,
    ms(bigMs),
    `raw warm exec reading all ${ms(bigRaw)}`,
    bigRead === GiB ? bigMs / bigRaw : null,
    '≤ 5000 ms',
    bigMs <= 5000,
  );
  const bigRss = Math.max(...bigRuns.map((b) => b.rss_growth));
  row('1 GiB output: server RSS growth (max)', mb(bigRss), '—', null, '≤ 50 MB', bigRss <= 50 * MiB);
  row('files_read 256 KiB tail of 1 GiB x50: server RSS growth', mb(results.files_read_rss.growth), '—', null, '— (info)', null);
  const rRead = rs.tail_256k_of_1g.p50 / rs.small_1k.p50;
  row('files_read 256 KiB tail of 1 GiB p50', ms(rs.tail_256k_of_1g.p50), `1 KiB file ${ms(rs.small_1k.p50)}`, rRead, '≤ 2×', rRead <= 2);
  row(
    'files_read 256 KiB text tail of 1 GiB p50',
    ms(rs.text_tail_256k_of_1g.p50),
    `1 KiB file ${ms(rs.small_1k.p50)}`,
    rs.text_tail_256k_of_1g.p50 / rs.small_1k.p50,
    '— (info)',
    null,
  );
  row(
    'files_read 1 KiB tail of 1 GiB p50',
    ms(rs.tail_1k_of_1g.p50),
    `1 KiB file ${ms(rs.small_1k.p50)}`,
    rs.tail_1k_of_1g.p50 / rs.small_1k.p50,
    '— (info)',
    null,
  );
  row(
    'raw SFTP read 256 KiB tail of 1 GiB p50',
    ms(rs.raw_sftp_tail_256k_of_1g.p50),
    `raw SFTP 1 KiB ${ms(rs.raw_sftp_small_1k.p50)}`,
    rs.raw_sftp_tail_256k_of_1g.p50 / rs.raw_sftp_small_1k.p50,
    '— (info)',
    null,
  );
  row(
    'files_write 10 MiB p50',
    ms(ws.http.p50),
    `raw SFTP writeFile ${ms(ws.raw_sftp.p50)}`,
    ws.http.p50 / ws.raw_sftp.p50,
    '— (report)',
    null,
  );
  row(
    'files_write 10 MiB p50 vs same SFTP steps',
    ms(ws.http.p50),
    `raw tmp+fsync+rename ${ms(ws.raw_sftp_same_steps.p50)}`,
    ws.http.p50 / ws.raw_sftp_same_steps.p50,
    '— (info)',
    null,
  );
  row(
    'ollama_version HTTP p50 through the SSH tunnel',
    ms(ov.tunnel.p50),
    `same, OLLAMA_TUNNEL=false ${ms(ov.direct.p50)}`,
    ov.tunnel.p50 / ov.direct.p50,
    '— (info)',
    null,
  );
  const startMs = median(startups.map((s) => s.readyMs));
  row('start-up to /healthz 200 (median of 3)', ms(startMs), `bare node -e 0 ${ms(median(bareNode))}`, null, '≤ 1500 ms', startMs <= 1500);
  row('idle RSS after start + warm-up', mb(idleRss), '—', null, '≤ 150 MB', idleRss <= 150 * MiB);

  results.rows = rows.filter((r) => want(sectionOfRow(r.metric)));
  results.load.loadavg_end = os.loadavg().map((x) => round(x));
  results.load.busy_processes_end = await busyProcesses();
  results.duration_s = round((performance.now() - benchStart) / 1000, 1);
  if (httpErrors) results.notes.push({ concurrency_error_kinds: errorKinds });

  const cols = ['metric', 'measured', 'baseline', 'ratio', 'target', 'met'];
  const widths = cols.map((c) => Math.max(c.length, ...results.rows.map((r) => String(r[c]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\ngpu-host-tools bench, ${results.date}`);
  console.log(
    `${results.machine.os}; ${results.machine.cpu_model} × ${results.machine.cores}; node ${results.machine.node}; ${results.machine.openssh}; ssh2 ${results.machine.ssh2}`,
  );
  console.log(
    `load average start ${results.load.loadavg_start.join(' ')}, end ${results.load.loadavg_end.join(' ')}; ${results.duration_s} s\n`,
  );
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of results.rows) console.log(line(cols.map((c) => r[c])));
  if (httpErrors) {
    console.log('\nshell_exec errors under concurrency:');
    for (const [k, v] of Object.entries(errorKinds)) console.log(`  ${v} × ${k}`);
  }
  const missed = results.rows.filter((r) => r.met === 'NO').length;
  console.log(
    `\n${missed === 0 ? 'all targets met' : `${missed} target(s) missed`}; raw numbers in ${path.relative(process.cwd(), RESULTS_FILE)}`,
  );
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
} catch (err) {
  console.error(`bench failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
  agent.destroy();
}
// ssh2 and the MCP client may leave timers behind; the results are written.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
