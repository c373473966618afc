/**
 * What every scenario shares, set up once per run: the sshd with the fake nvidia-smi first on its PATH,
 * the fake Ollama, the files root, then the server under test (the shipped bundle), the two warm raw
 * ssh2 connections, the MCP client, and the warm-up before the idle RSS reading. Each piece registers
 * its own teardown with `defer`; the runner calls them in reverse order.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSshd } from '../../test/support/sshd.ts';
import { installFakeNvidiaSmi } from '../../test/support/fake-nvidia-smi.ts';
import { startFakeOllama } from '../../test/support/fake-ollama.ts';
import { startNodeServer, startServer } from '../../test/support/server.ts';
import { connectMcp } from '../../test/support/mcp-client.ts';
import { rssBytes } from './machine.mjs';
import { httpShell } from './probes.mjs';
import { rawClose, rawConnect, rawWarmShell } from './raw-ssh.mjs';
import { GiB } from './rows.mjs';

/**
 * small.txt (1 KiB), big.bin (1 GiB, sparse: no disk used, reads as zeros, so files_read answers base64)
 * and big-log.txt (the same, but ending in 256 KiB of log lines: the "end of a log" case, answered as text).
 */
function makeFilesRoot() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ght-bench-files-'));
  writeFileSync(path.join(root, 'small.txt'), 'x'.repeat(1023) + '\n');
  const big = path.join(root, 'big.bin');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, GiB);
  closeSync(fd);
  const bigLog = path.join(root, 'big-log.txt');
  const logFd = openSync(bigLog, 'w');
  ftruncateSync(logFd, GiB);
  const logLine = (i) => `2026-01-01T00:00:00Z ollama[1234]: level=INFO msg="request ${String(i).padStart(8, '0')} served"\n`;
  const logTail = Buffer.from(Array.from({ length: 4096 }, (_, i) => logLine(i)).join('')).subarray(0, 256 * 1024);
  writeSync(logFd, logTail, 0, logTail.length, GiB - logTail.length);
  closeSync(logFd);
  return { root, big, bigLog };
}

/** sshd, fake nvidia-smi, fake Ollama, files root, and the environment the server runs with. */
export async function startFixtures(apiKey, defer) {
  const sshd = await startSshd();
  defer(() => sshd.dispose());
  installFakeNvidiaSmi(sshd.binDir);
  const ollama = await startFakeOllama();
  defer(() => ollama.stop());
  const files = makeFilesRoot();
  defer(() => rmSync(files.root, { recursive: true, force: true }));
  const serverEnv = {
    SSH_HOST: sshd.host,
    SSH_PORT: String(sshd.port),
    SSH_USER: sshd.username,
    SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath,
    SSH_KNOWN_HOSTS: sshd.knownHostsPath,
    HOST_NAME: 'bench',
    API_KEY: apiKey,
    FILES_ROOT: files.root,
    OLLAMA_URL: ollama.url,
  };
  return { sshd, ollama, files, serverEnv, startServer };
}

/** The bare HTTP floor (lib/http-floor-server.mjs) as a child process, once it listens: { url, pid }. */
async function startHttpFloor(ctx, defer) {
  const { host, port, username, privateKeyPath, hostKeyFingerprint } = ctx.sshd;
  const running = await startNodeServer([new URL('./http-floor-server.mjs', import.meta.url).pathname], {
    HTTP_FLOOR_SSHD: JSON.stringify({ host, port, username, privateKeyPath, hostKeyFingerprint }),
    HTTP_FLOOR_KEY: ctx.apiKey,
  });
  defer(() => running.stop());
  return { url: running.url, pid: running.process.pid };
}

/**
 * The server under test with its RSS right after start, the warm raw connections, the MCP client and
 * the bare HTTP floor.
 */
export async function startServerUnderTest(ctx, defer) {
  const running = await startServer(ctx.serverEnv, 30_000);
  defer(() => running.stop());
  const server = { url: running.url, pid: running.process.pid, rssAfterStart: rssBytes(running.process.pid) };
  const raw = { noDelay: await rawConnect(ctx.sshd, { noDelay: true }) };
  defer(() => rawClose(raw.noDelay));
  raw.defaultSocket = await rawConnect(ctx.sshd, { noDelay: false });
  defer(() => rawClose(raw.defaultSocket));
  // On the no-delay connection, beside its exec channels (one session of sshd's MaxSessions).
  raw.warmShell = await rawWarmShell(raw.noDelay);
  defer(() => raw.warmShell.close());
  const mcp = await connectMcp(server.url, ctx.apiKey);
  defer(() => mcp.close());
  const httpFloor = await startHttpFloor(ctx, defer);
  return { server, raw, mcp, httpFloor };
}

/**
 * Ten warm-up rounds (also the "few requests" before the idle RSS reading): each selected scenario's own
 * warm-up step, then a trivial shell_exec; then /healthz, a small files_read and a second of rest.
 * Returns the server's idle RSS after it.
 */
export async function warmUp(ctx, scenarios) {
  const trivialShell = httpShell(ctx, 'true', () => true);
  for (let i = 0; i < 10; i++) {
    for (const s of scenarios) if (s.warmUp) await s.warmUp(ctx, i);
    await trivialShell();
  }
  await ctx.http.request(ctx.server.url, 'GET', '/healthz');
  await ctx.http.request(ctx.server.url, 'GET', '/files/read', { query: { path: 'small.txt' } });
  await sleep(1000);
  return rssBytes(ctx.server.pid);
}
