/**
 * Fault injection against the built server: the SSH host vanishing in the middle of a call
 * and coming back, Ollama going away and coming back or hanging, hosts that never answer, a burst of
 * 200 calls, and the server's memory through all of it. Uses a private sshd (startSshd) because these
 * tests kill it; the shared one must stay up for the other files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { call, startServer, type RunningServer, expectError } from '../support/server.js';
import { freePort, startSshd, type Sshd } from '../support/sshd.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { sleep, timed } from '../support/waiting.js';

const FULL = 'full-key-0123456789abcdef';
/** What the YAML below sets for every ssh host; the timeout tests measure against it. */
const CONNECT_TIMEOUT_S = 2;
/** The Ollama client's request timeout (src/infra/ollama/ollama-client.ts, not configurable yet). */
const OLLAMA_REQUEST_TIMEOUT_S = 30;

/** Resident set size of a process in bytes, from /proc (Linux). */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('faults: SSH host and Ollama going away, hanging and coming back', () => {
  let sshd: Sshd;
  let ollama: FakeOllama;
  let silent: net.Server;
  const silentSockets = new Set<net.Socket>();
  let silentConnections = 0;
  let server: RunningServer;
  let dir: string;
  const rss: Record<string, number> = {};

  const exec = (command: string) => call(server.url, 'POST', '/shell/exec', { key: FULL, body: { command, timeout_seconds: 30 } });
  const metrics = async () => (await call(server.url, 'GET', '/metrics', { key: FULL })).text;

  beforeAll(async () => {
    [sshd, ollama] = await Promise.all([startSshd(), startFakeOllama()]);
    // A port that accepts TCP connections and then says nothing, like a host behind a broken proxy.
    silent = net.createServer((s) => {
      silentConnections++;
      silentSockets.add(s);
      s.on('error', () => {});
      s.on('close', () => silentSockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const closedPort = await freePort();

    dir = mkdtempSync(path.join(os.tmpdir(), 'ght-faults-'));
    const ssh = (port: number) =>
      `{host: 127.0.0.1, port: ${port}, user: ${sshd.username}, private_key_path: ${sshd.privateKeyPath}, known_hosts: ${sshd.knownHostsPath}, connect_timeout_seconds: ${CONNECT_TIMEOUT_S}}`;
    writeFileSync(
      `${dir}/config.yaml`,
      `keys:\n  admin: {key: ${FULL}, scopes: [read, write, shell]}\n` +
        `default_host: whisper\n` +
        `hosts:\n` +
        `  whisper:\n    transport: ssh\n    ssh: ${ssh(sshd.port)}\n    ollama_url: ${ollama.url}\n` +
        `  silent:\n    transport: ssh\n    ssh: ${ssh(silentPort)}\n` +
        `  closed:\n    transport: ssh\n    ssh: ${ssh(closedPort)}\n`,
    );
    server = await startServer({ CONFIG_FILE: `${dir}/config.yaml` });
    // Warm up what a steady-state server has loaded (SSH connection, JIT, Ollama client) before the
    // memory baseline that the burst and the final memory test compare against.
    for (let i = 0; i < 5; i++) expect((await exec(`echo warm${i}`)).body.stdout).toBe(`warm${i}\n`);
    expect((await call(server.url, 'GET', '/ollama/models', { key: FULL })).status).toBe(200);
    rss.baseline = rssBytes(server.process.pid!);
  });

  afterAll(async () => {
    await server?.stop();
    for (const s of silentSockets) s.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    await Promise.all([sshd?.dispose(), ollama?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (Object.keys(rss).length)
      console.info(
        `faults: server RSS (MB) ${Object.entries(rss)
          .map(([k, v]) => `${k}=${mb(v)}`)
          .join(', ')}`,
      );
  });

  it('works over the private sshd before anything breaks', async () => {
    expect((await exec('echo ok')).body).toMatchObject({ stdout: 'ok\n', exit_code: 0 });
    expect((await call(server.url, 'GET', '/ollama/models', { key: FULL })).status).toBe(200);
  });

  it('gives up on a port that accepts TCP but never speaks SSH within the connect timeout (504 HOST_TIMEOUT)', async () => {
    const { value: res, ms } = await timed(call(server.url, 'GET', '/hosts/resources', { key: FULL, query: { host: 'silent' } }));
    expectError(res, 504, 'HOST_TIMEOUT');
    expect(res.body.message).toMatch(/handshake/);
    expect(ms).toBeGreaterThan(CONNECT_TIMEOUT_S * 1000 - 200);
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_S * 1000 + 1_500);
    expect(silentConnections).toBeGreaterThan(0); // TCP did connect: this is the handshake timeout, not a refusal
  });

  it('fails at once on a closed port (503 HOST_UNREACHABLE), well within the connect timeout', async () => {
    const { value: res, ms } = await timed(call(server.url, 'GET', '/hosts/resources', { key: FULL, query: { host: 'closed' } }));
    expectError(res, 503, 'HOST_UNREACHABLE');
    expect(res.body.message).toMatch(/refused/);
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_S * 1000);
  });

  it('answers 200 concurrent shell_exec calls without an error (the channel limit queues the rest)', async () => {
    // /metrics dials every host for its GPU gauges, so it is first scraped here, after the timeout tests
    // above have seen the silent and closed hosts' first dials (a failed dial puts a host in a short
    // fail-fast backoff window).
    const execsOk = { operation: 'shell_exec', status: '200', surface: 'rest' };
    const before = sample(await metrics(), 'ght_requests_total', execsOk) ?? 0;
    const n = 200;
    const { value: results, ms } = await timed(Promise.all(Array.from({ length: n }, (_, i) => exec(`echo ${i}`))));
    rss.afterBurst = rssBytes(server.process.pid!);
    // Each call must come back complete: its own stdout AND exit code 0. A result with the right stdout and
    // exit_code null (no signal, no timeout) means the transport lost the command's exit status.
    const failures = results
      .map((r, i) => ({ i, r }))
      .filter(({ i, r }) => r.status !== 200 || r.body?.stdout !== `${i}\n` || r.body?.exit_code !== 0);
    expect(failures.map(({ i, r }) => `#${i}: ${r.status} ${r.text.slice(0, 200)}`)).toEqual([]);
    console.info(`faults: ${n} concurrent shell_exec calls over one SSH connection in ${Math.round(ms)} ms`);
    // 200 requests in flight at once hold 200 sockets, request objects and results of a few hundred
    // bytes each: a few MB. 100 MB is far above that and far below what a leak per call (a retained
    // channel, buffer or closure per exec) would show after a few hundred calls plus the faults below,
    // while leaving room for V8 growing its heap lazily on a busy 2-core machine.
    expect(mb(rss.afterBurst - rss.baseline)).toBeLessThan(100);
    const text = await metrics();
    expect(sample(text, 'ght_requests_total', execsOk)).toBe(before + n);
    expect(sample(text, 'ght_ssh_reconnects', { host: 'whisper' })).toBe(0);
  });

  it('fails a call in flight fast with 503 HOST_UNREACHABLE when sshd is killed under it', async () => {
    const inFlight = timed(exec('sleep 5; echo too-late'));
    await sleep(700); // the command is running on the host by now
    const killedAt = performance.now();
    await sshd.kill();
    const { value: res, ms } = await inFlight;
    const afterKill = performance.now() - killedAt;
    expectError(res, 503, 'HOST_UNREACHABLE');
    expect(res.body.message).toMatch(/dropped while the command was running/);
    // The connection's close is seen at once (the kernel resets the socket of a killed process); the
    // command's own 5 s never matter.
    expect(afterKill).toBeLessThan(2_000);
    expect(ms).toBeLessThan(3_500);
  });

  it('answers 503 at once while the host is down, and list_hosts says it is unreachable', async () => {
    await sshd.kill(); // already down after the test above; a no-op then
    const { value: res, ms } = await timed(exec('echo down'));
    expectError(res, 503, 'HOST_UNREACHABLE');
    expect(res.body.message).toContain(`127.0.0.1:${sshd.port}`);
    expect(ms).toBeLessThan(1_500); // connection refused: no waiting for the connect timeout
    const hosts = await call(server.url, 'GET', '/hosts', { key: FULL, query: { host: 'whisper' } });
    expect(hosts.status).toBe(200);
    expect(hosts.body.hosts[0]).toMatchObject({ name: 'whisper', reachable: false, error: expect.stringContaining('refused') });
  });

  it('reconnects by itself once sshd is back on the same port: no server restart', async () => {
    const pid = server.process.pid;
    await sshd.kill(); // already down after the tests above; a no-op then
    expectError(await exec('echo down'), 503, 'HOST_UNREACHABLE');
    const lastFailedDialAt = performance.now();
    await sshd.restart();
    // After a failed dial the transport answers from its backoff window (500 ms after the first failure)
    // instead of hammering the host; wait that window out, then the very next call must succeed.
    await sleep(Math.max(0, lastFailedDialAt + 1_100 - performance.now()));
    const res = await exec('echo back');
    expect(res.status, res.text).toBe(200);
    expect(res.body.stdout).toBe('back\n');
    expect(server.process.pid).toBe(pid);
    expect(server.process.exitCode).toBeNull();
    const hosts = await call(server.url, 'GET', '/hosts', { key: FULL, query: { host: 'whisper' } });
    expect(hosts.body.hosts[0]).toMatchObject({ name: 'whisper', reachable: true });
    expect(hosts.body.hosts[0].error).toBeUndefined();
    const text = await metrics();
    expect(sample(text, 'ght_ssh_reconnects', { host: 'whisper' })).toBe(1);
    expect(sample(text, 'ght_ssh_connection_state', { host: 'whisper', state: 'connected' })).toBe(1);
  });

  it('answers 502 OLLAMA_UNREACHABLE naming the URL while Ollama is down, and 200 once it is back', async () => {
    expect((await call(server.url, 'GET', '/ollama/models', { key: FULL })).status).toBe(200);
    await ollama.setDown();
    const { value: down, ms } = await timed(call(server.url, 'GET', '/ollama/models', { key: FULL }));
    expectError(down, 502, 'OLLAMA_UNREACHABLE');
    // Reached through the SSH connection (the default for an ssh host): the message names both.
    expect(down.body.message).toContain(`Ollama at ${ollama.url} (host 'whisper', through SSH to ${sshd.username}@127.0.0.1:${sshd.port})`);
    expect(ms).toBeLessThan(2_000);
    await ollama.setUp();
    const up = await call(server.url, 'GET', '/ollama/models', { key: FULL });
    expect(up.status, up.text).toBe(200);
    expect(up.body.models.length).toBeGreaterThan(0);
  });

  it('keeps its memory bounded through the burst and the faults, and stays healthy', async () => {
    // A final round of calls over the reconnected connection, then measure.
    const again = await Promise.all(Array.from({ length: 20 }, (_, i) => exec(`echo again${i}`)));
    expect(again.every((r, i) => r.status === 200 && r.body.stdout === `again${i}\n`)).toBe(true);
    rss.afterFaults = rssBytes(server.process.pid!);
    // See the burst test for why 100 MB: generous for noise, far below what a leak would show.
    expect(mb(rss.afterFaults - rss.baseline)).toBeLessThan(100);
    expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);
    expect(server.output()).not.toMatch(/unexpected error/);
  });
});

describe('faults: an Ollama that accepts connections and never answers', () => {
  let stuck: FakeOllama;
  let server: RunningServer;

  beforeAll(async () => {
    stuck = await startFakeOllama();
    stuck.state.hang = true;
    server = await startServer({ API_KEY: FULL, OLLAMA_URL: stuck.url, SHELL_ENABLED: 'false' });
  });
  afterAll(async () => {
    await server?.stop();
    await stuck?.stop();
  });

  it(
    `fails the call after ${OLLAMA_REQUEST_TIMEOUT_S} s with 504 OLLAMA_TIMEOUT naming the URL, as the README promises`,
    async () => {
      const pending = timed(call(server.url, 'GET', '/ollama/models', { key: FULL }));
      // While that call waits, the server answers others.
      await sleep(1_000);
      expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);
      const { value: res, ms } = await pending;
      expectError(res, 504, 'OLLAMA_TIMEOUT');
      expect(res.body.message).toBe(
        `Ollama at ${stuck.url} (host 'local') accepted the connection but did not answer the model list within ${OLLAMA_REQUEST_TIMEOUT_S} s; ` +
          'it may be busy (loading a model) or stuck. Try again, and check the Ollama log on the host if it persists.',
      );
      // The bound is the request timeout: not earlier, and not much later on a busy machine.
      expect(ms).toBeGreaterThan(OLLAMA_REQUEST_TIMEOUT_S * 1000 - 500);
      expect(ms).toBeLessThan((OLLAMA_REQUEST_TIMEOUT_S + 5) * 1000);
      expect(stuck.state.requests.filter((r) => r.path === '/api/tags')).toHaveLength(1);
    },
    (OLLAMA_REQUEST_TIMEOUT_S + 15) * 1000,
  );
});
