/**
 * The built server reaching Ollama through each ssh host's SSH connection (the default), directly when a
 * host says `ollama.tunnel: false`, and failing clearly on an sshd that forbids forwarding. Who dialled
 * the fake Ollama is read from /proc: sshd for the tunnel, the server process for a direct connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSshd } from '../support/context.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { call, startServer, type RunningServer } from '../support/server.js';
import { socketOwners } from '../support/socket-owner.js';
import { startSshd, type Sshd, type SshdInfo } from '../support/sshd.js';

const FULL = 'full-key-0123456789abcdef';

describe('Ollama through the SSH connection, end to end', () => {
  let fake: FakeOllama;
  let noForwarding: Sshd;
  let server: RunningServer;
  let dir: string;
  const shared = (): SshdInfo => sharedSshd();
  const get = (p: string, host: string) => call(server.url, 'GET', p, { key: FULL, query: { host } });
  const post = (p: string, body: unknown) => call(server.url, 'POST', p, { key: FULL, body });
  /** Owners of the fake's connections accepted since index `from` that are still open. */
  const ownersSince = (from: number) => fake.state.connections.slice(from).map((c) => socketOwners(c.remotePort, fake.port));

  beforeAll(async () => {
    [fake, noForwarding] = await Promise.all([startFakeOllama(), startSshd({ extraConfig: ['AllowTcpForwarding no'] })]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ght-tunnel-e2e-'));
    const ssh = (s: SshdInfo) =>
      `{host: 127.0.0.1, port: ${s.port}, user: ${s.username}, private_key_path: ${s.privateKeyPath}, known_hosts: ${s.knownHostsPath}}`;
    writeFileSync(
      `${dir}/config.yaml`,
      `keys:\n  admin: {key: ${FULL}, scopes: [read, write, shell]}\n` +
        `hosts:\n` +
        `  whisper: {ssh: ${ssh(shared())}, ollama: {url: "${fake.url}"}}\n` +
        `  direct: {ssh: ${ssh(shared())}, ollama: {url: "${fake.url}", tunnel: false}}\n` +
        `  locked: {ssh: ${ssh(noForwarding)}, ollama: {url: "${fake.url}"}}\n`,
    );
    server = await startServer({ CONFIG_FILE: `${dir}/config.yaml` });
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([fake?.stop(), noForwarding?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('by default: the call goes through sshd, and a pull job reports progress and cancels through it', async () => {
    const from = fake.state.connections.length;
    const version = await get('/ollama/version', 'whisper');
    expect(version.status, version.text).toBe(200);
    expect(version.body).toEqual({ host: 'whisper', version: '0.12.6', url: fake.url });

    fake.state.pullDelayMs = 100;
    fake.state.pullChunksPerLayer = 200;
    const started = await post('/ollama/pull', { host: 'whisper', model: 'gemma:2b', wait_seconds: 1 });
    expect(started.status, started.text).toBe(200);
    expect(started.body).toMatchObject({ host: 'whisper', model: 'gemma:2b', state: 'running' });
    const job = started.body.job_id as string;
    let status = started.body;
    for (let i = 0; i < 100 && !(status.completed_bytes > 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await get(`/ollama/jobs/${job}`, 'whisper')).body;
    }
    expect(status).toMatchObject({ state: 'running', status: 'pulling c1864a5eb193', total_bytes: 1678447520 });
    expect(status.completed_bytes).toBeGreaterThan(0);

    // Every connection the server made to Ollama (the pull's is open now) is held by sshd, not the server.
    const owners = ownersSince(from);
    expect(owners.length).toBeGreaterThan(0);
    const open = owners.filter((o) => o.length > 0);
    expect(open.length).toBeGreaterThan(0);
    for (const o of open) {
      expect(o.map((x) => x.comm)).toContain('sshd');
      expect(o.map((x) => x.pid)).not.toContain(server.process.pid);
    }

    const cancelled = await call(server.url, 'POST', `/ollama/jobs/${job}/cancel`, { key: FULL, body: {} });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    // Closing the stream closed the channel, and sshd closed its connection to Ollama.
    await expect.poll(() => fake.state.cancelled.filter((c) => c.model === 'gemma:2b').length, { timeout: 10_000 }).toBe(1);
    fake.state.pullDelayMs = 0;
  });

  it('ollama.tunnel: false: the server dials the URL itself', async () => {
    const from = fake.state.connections.length;
    const res = await get('/ollama/models', 'direct');
    expect(res.status, res.text).toBe(200);
    expect(res.body.models.length).toBeGreaterThan(0);
    const owners = ownersSince(from);
    expect(owners).toHaveLength(1);
    expect(owners[0]!.map((o) => o.pid)).toEqual([server.process.pid]);
  });

  it('AllowTcpForwarding no on the host: 502 OLLAMA_UNREACHABLE saying what to change, and the shell still works', async () => {
    const res = await get('/ollama/models', 'locked');
    expect(res.status, res.text).toBe(502);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
    expect(res.body).toMatchObject({ statusCode: 502, error: 'Bad Gateway', code: 'OLLAMA_UNREACHABLE' });
    const address = `${noForwarding.username}@127.0.0.1:${noForwarding.port}`;
    expect(res.body.message).toContain(
      `Ollama at ${fake.url} (host 'locked', through SSH to ${address}) cannot be reached: sshd on ${address} refused`,
    );
    expect(res.body.message).toContain('`AllowTcpForwarding local`');
    expect(res.body.message).toContain('OLLAMA_TUNNEL=false (ollama.tunnel: false)');
    const shell = await post('/shell/exec', { host: 'locked', command: 'echo fine' });
    expect(shell.status, shell.text).toBe(200);
    expect(shell.body.stdout).toBe('fine\n');
  });
});
