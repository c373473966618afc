/**
 * Ollama through the SSH connection: OllamaClient over SshTransport.forwardOut against a real OpenSSH
 * server, with the fake Ollama on 127.0.0.1 as "the GPU host's loopback". Every test checks who dialled
 * the fake where it matters (sshd, via /proc), so a client that quietly connected directly would fail.
 * The shared sshd serves the tests that leave it alone; tests that need another sshd_config, or kill or
 * freeze sshd, start their own.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OllamaClient, type OllamaClientOptions } from '../../src/infra/ollama/ollama-client.js';
import { OllamaAbortError } from '../../src/infra/ollama/ollama-errors.js';
import type { OllamaProgress } from '../../src/infra/ollama/ollama-wire-types.js';
import type { SshTransport } from '../../src/infra/ssh/ssh-transport.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sharedSshd } from '../support/context.js';
import { appErrorOfAsync } from '../support/errors.js';
import { cancelledPull } from '../support/cancelled-pull.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { descendants } from '../support/processes.js';
import { socketOwners } from '../support/socket-owner.js';
import { sshTransportTo } from '../support/ssh-transport.js';
import { freePort, startSshd, type Sshd, type SshdInfo } from '../support/sshd.js';

const execDefaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 65536, maxStderrBytes: 65536 };

function transportFor(s: SshdInfo, port = s.port): SshTransport {
  return sshTransportTo(s, { name: 'whisper', port });
}

/** The client as the host registry builds it for an ssh host with the tunnel on. */
function tunnelled(transport: SshTransport, baseUrl: string, extra: Partial<OllamaClientOptions> = {}): OllamaClient {
  return new OllamaClient({
    baseUrl,
    hostName: 'whisper',
    tunnel: { via: transport.address, open: (host, port, options) => transport.forwardOut(host, port, options) },
    ...extra,
  });
}

/** Who holds the client end of each connection the fake accepted (still open ones only). */
function dialers(fake: FakeOllama): string[][] {
  return fake.state.connections.map((c) => socketOwners(c.remotePort, fake.port).map((o) => o.comm));
}

describe('Ollama through the shared sshd', () => {
  const sshd = () => sharedSshd();
  let fake: FakeOllama;
  let transport: SshTransport;
  let client: OllamaClient;

  beforeEach(async () => {
    fake = await startFakeOllama();
    transport = transportFor(sshd());
    client = tunnelled(transport, fake.url);
  });
  afterEach(async () => {
    client.close();
    await transport.close();
    await fake.stop();
  });

  it('answers through a channel that sshd dialled, not this process', async () => {
    expect(await client.version()).toEqual({ version: '0.12.6' });
    // Held open by a slow pull, the connection's client end can be looked up while it exists.
    fake.state.pullDelayMs = 100;
    fake.state.pullChunksPerLayer = 50;
    const controller = new AbortController();
    let owners: string[][] = [];
    const pull = client.pull('gemma:2b', {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.digest && owners.length === 0) {
          owners = dialers(fake);
          controller.abort();
        }
      },
    });
    await expect(pull).rejects.toBeInstanceOf(OllamaAbortError);
    expect(owners.length).toBeGreaterThan(0);
    // Each connection the fake accepted is held by sshd processes (the per-connection child forwards
    // it), none by this test's node process; closed ones have no owner left.
    for (const comms of owners) for (const comm of comms) expect(comm).toBe('sshd');
    expect(owners.flat()).toContain('sshd');
    expect(fake.state.connections.every((c) => c.remoteAddress === '127.0.0.1')).toBe(true);
  });

  it('keeps the channel and reuses it: five calls in a row use one connection to Ollama', async () => {
    for (let i = 0; i < 5; i++) expect((await client.tags()).models.length).toBeGreaterThan(0);
    expect(fake.state.requests.filter((r) => r.path === '/api/tags')).toHaveLength(5);
    expect(fake.state.connections).toHaveLength(1);
    expect(dialers(fake)[0]).toContain('sshd');
  });

  it('pull progress comes through the tunnel line by line, the same as over a direct connection', async () => {
    const direct = new OllamaClient({ baseUrl: fake.url, hostName: 'whisper' });
    const viaDirect: OllamaProgress[] = [];
    await direct.pull('qwen2.5:0.5b', { onProgress: (p) => viaDirect.push(p) });
    direct.close();
    // Pull another model the same way through the tunnel, then the first one again (already present).
    const viaTunnel: OllamaProgress[] = [];
    expect(await client.pull('gemma:2b', { onProgress: (p) => viaTunnel.push(p) })).toEqual({ status: 'success' });
    expect(viaTunnel[0]).toEqual({ status: 'pulling manifest' });
    expect(viaTunnel.filter((p) => p.digest).length).toBeGreaterThan(4);
    expect(viaTunnel.at(-1)).toEqual({ status: 'success' });
    const again: OllamaProgress[] = [];
    await client.pull('qwen2.5:0.5b', { onProgress: (p) => again.push(p) });
    // Same layers, same totals; the second time every layer is already complete.
    expect(again.map((p) => [p.status, p.total])).toEqual(
      [...new Map(viaDirect.map((p) => [p.status, p] as const)).values()].map((p) => [p.status, p.total]),
    );
    expect((await client.tags()).models.map((m) => m.name)).toEqual(expect.arrayContaining(['gemma:2b', 'qwen2.5:0.5b']));
  });

  it('cancel closes the channel: Ollama sees the client go, and the next pull resumes', async () => {
    // sshd closes its TCP connection to Ollama when the channel closes; the fake records the cancel.
    const { seen } = await cancelledPull(client, fake, 5);
    const partial = seen.filter((p) => p.completed).at(-1)!.completed!;
    fake.state.pullDelayMs = 0;
    const resumed: OllamaProgress[] = [];
    await client.pull('gemma:2b', { onProgress: (p) => resumed.push(p) });
    expect(resumed.find((p) => p.digest === seen.find((s) => s.digest)!.digest)!.completed).toBeGreaterThanOrEqual(partial);
    expect(resumed.at(-1)).toEqual({ status: 'success' });
  });

  it('Ollama down behind the tunnel → 502 OLLAMA_UNREACHABLE naming the Ollama address, the host and the SSH connection; back up → 200', async () => {
    expect(await client.version()).toEqual({ version: '0.12.6' });
    await fake.setDown();
    const started = Date.now();
    const err = await appErrorOfAsync(client.tags());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.status).toBe(502);
    expect(err.code).toBe('OLLAMA_UNREACHABLE');
    expect(err.message).toBe(
      `Ollama at ${fake.url} (host 'whisper', through SSH to ${transport.address}) refused the connection on the host; ` +
        'check that ollama is running there (systemctl status ollama) and that the Ollama URL is the address it listens on ' +
        "as the host sees it (Ollama's default: 127.0.0.1:11434).",
    );
    // A pull fails the same way, before its first line.
    expect((await appErrorOfAsync(client.pull('gemma:2b'))).code).toBe('OLLAMA_UNREACHABLE');
    await fake.setUp();
    expect(await client.version()).toEqual({ version: '0.12.6' });
  });

  it('a port nobody listens on, a name the host cannot resolve, a port that is not HTTP → 502 saying which', async () => {
    const closed = tunnelled(transport, `http://127.0.0.1:${await freePort()}`);
    const refused = await appErrorOfAsync(closed.version());
    closed.close();
    expect([refused.status, refused.code]).toEqual([502, 'OLLAMA_UNREACHABLE']);
    expect(refused.message).toMatch(/refused the connection on the host/);
    const unknown = tunnelled(transport, 'http://no-such-host.invalid:11434');
    const unresolved = await appErrorOfAsync(unknown.version());
    unknown.close();
    expect([unresolved.status, unresolved.code]).toEqual([502, 'OLLAMA_UNREACHABLE']);
    expect(unresolved.message).toContain('no-such-host.invalid');
    expect(unresolved.message).toContain(transport.address);
    // Something that is not HTTP at all behind the URL (here sshd's own port: it answers with its banner).
    const notHttp = tunnelled(transport, `http://127.0.0.1:${sshd().port}`, { requestTimeoutMs: 5_000 });
    const garbled = await appErrorOfAsync(notHttp.version());
    notHttp.close();
    expect(garbled.status).toBe(502);
    expect(garbled.code).toBe('OLLAMA_ERROR');
    expect(garbled.message).toBe(
      `Ollama at http://127.0.0.1:${sshd().port} (host 'whisper', through SSH to ${transport.address}) answered /api/version with ` +
        'something that is not HTTP (HPE_INVALID_CONSTANT); check that the URL points at Ollama itself (not a proxy or another service).',
    );
  });

  it('timeouts work the same through the tunnel: a silent Ollama → 504 OLLAMA_TIMEOUT, a stalled stream too', async () => {
    const quick = tunnelled(transport, fake.url, { requestTimeoutMs: 500, idleTimeoutMs: 500 });
    fake.state.hang = true;
    const silent = await appErrorOfAsync(quick.tags());
    expect([silent.status, silent.code]).toEqual([504, 'OLLAMA_TIMEOUT']);
    expect(silent.message).toBe(
      `Ollama at ${fake.url} (host 'whisper', through SSH to ${transport.address}) accepted the connection but did not answer ` +
        'the model list within 0.5 s; it may be busy (loading a model) or stuck. Try again, and check the Ollama log on the host if it persists.',
    );
    fake.state.hang = false;
    fake.state.stallAfterLines = 3;
    const stalled = await appErrorOfAsync(quick.pull('gemma:2b'));
    expect([stalled.status, stalled.code]).toEqual([504, 'OLLAMA_TIMEOUT']);
    expect(stalled.message).toMatch(/sent nothing for 0\.5 s during the pull of 'gemma:2b'/);
    // The stalled stream's channel was closed, so Ollama saw the client go.
    await expect.poll(() => fake.state.cancelled.length, { timeout: 5_000 }).toBe(1);
    quick.close();
  });

  it('the SSH host unreachable → the SSH error (503 HOST_UNREACHABLE), prefixed with the Ollama address', async () => {
    const nowhere = transportFor(sshd(), await freePort());
    const c = tunnelled(nowhere, fake.url);
    const err = await appErrorOfAsync(c.version());
    c.close();
    await nowhere.close();
    expect([err.status, err.code]).toEqual([503, 'HOST_UNREACHABLE']);
    expect(err.message).toMatch(
      new RegExp(
        `^Ollama at ${fake.url} \\(host 'whisper', through SSH to ${nowhere.address}\\) cannot be reached because SSH failed: SSH to ${nowhere.address} was refused`,
      ),
    );
    expect(fake.state.connections).toHaveLength(0);
  });
});

describe('Ollama through an sshd that forbids TCP forwarding', () => {
  let sshd: Sshd;
  let fake: FakeOllama;
  beforeAll(async () => {
    [sshd, fake] = await Promise.all([startSshd({ extraConfig: ['AllowTcpForwarding no'] }), startFakeOllama()]);
  });
  afterAll(async () => {
    await Promise.all([sshd?.dispose(), fake?.stop()]);
  });

  it('→ 502 OLLAMA_UNREACHABLE saying what to change on the host or in the configuration; commands still run', async () => {
    const transport = transportFor(sshd);
    const client = tunnelled(transport, fake.url);
    try {
      const err = await appErrorOfAsync(client.version());
      expect([err.status, err.code]).toEqual([502, 'OLLAMA_UNREACHABLE']);
      expect(err.message).toBe(
        `Ollama at ${fake.url} (host 'whisper', through SSH to ${transport.address}) cannot be reached: sshd on ${transport.address} ` +
          `refused to forward to 127.0.0.1:${fake.port} (administratively prohibited: open failed). Allow it in /etc/ssh/sshd_config on the host ` +
          'with `AllowTcpForwarding local` (or yes; a Match User block limits it to this account), make sure no PermitOpen, ' +
          `DisableForwarding or no-port-forwarding key option excludes 127.0.0.1:${fake.port}, and reload sshd; or set ` +
          'OLLAMA_TUNNEL=false (ollama.tunnel: false) to reach Ollama over the network instead.',
      );
      expect(fake.state.connections).toHaveLength(0);
      // The refusal is about forwarding only: the same connection still runs commands.
      expect((await transport.exec('echo still-here', execDefaults)).stdout).toBe('still-here\n');
      expect(transport.status().state).toBe('connected');
    } finally {
      client.close();
      await transport.close();
    }
  });
});

describe('Ollama through an sshd with MaxSessions 1', () => {
  let sshd: Sshd;
  let fake: FakeOllama;
  beforeAll(async () => {
    [sshd, fake] = await Promise.all([startSshd({ extraConfig: ['MaxSessions 1'] }), startFakeOllama()]);
  });
  afterAll(async () => {
    await Promise.all([sshd?.dispose(), fake?.stop()]);
  });

  it('holds six forwarded connections and a command at once: forwarded channels are not sessions', async () => {
    const transport = transportFor(sshd);
    const client = tunnelled(transport, fake.url);
    try {
      fake.state.hang = true; // every request stays open, unanswered, until we cancel it
      const controller = new AbortController();
      const pulls = ['gemma:2b', 'qwen2.5:0.5b', 'tinyllama:latest', 'llama3.2:latest', 'gemma:2b', 'qwen2.5:0.5b'].map((m) =>
        client.pull(m, { signal: controller.signal }),
      );
      await expect.poll(() => fake.state.requests.length, { timeout: 15_000 }).toBe(6);
      expect(fake.state.connections).toHaveLength(6);
      // The one session sshd allows is still free for a command while six channels are open.
      expect((await transport.exec('echo session', execDefaults)).stdout).toBe('session\n');
      controller.abort();
      for (const p of pulls) await expect(p).rejects.toBeInstanceOf(OllamaAbortError);
      fake.state.hang = false;
      expect(await client.version()).toEqual({ version: '0.12.6' });
    } finally {
      client.close();
      await transport.close();
    }
  });
});

describe('Ollama through an sshd that dies or freezes', () => {
  let sshd: Sshd;
  let fake: FakeOllama;
  beforeAll(async () => {
    [sshd, fake] = await Promise.all([startSshd(), startFakeOllama()]);
  });
  afterAll(async () => {
    await Promise.all([sshd?.dispose(), fake?.stop()]);
  });

  it('sshd killed mid-pull → 503 HOST_UNREACHABLE saying the SSH connection dropped; after a restart the next call works', async () => {
    const transport = transportFor(sshd);
    const client = tunnelled(transport, fake.url);
    try {
      fake.state.pullDelayMs = 50;
      fake.state.pullChunksPerLayer = 100;
      let lines = 0;
      let killing: Promise<void> | undefined;
      const err = await appErrorOfAsync(
        client.pull('gemma:2b', {
          onProgress: () => {
            if (++lines === 3) killing = sshd.kill();
          },
        }),
      );
      await killing;
      expect([err.status, err.code]).toEqual([503, 'HOST_UNREACHABLE']);
      expect(err.message).toBe(
        `Ollama at ${fake.url} (host 'whisper', through SSH to ${transport.address}): the SSH connection dropped in the middle of ` +
          "the pull of 'gemma:2b'; it is re-opened on the next call, so try again (a pull resumes where it stopped).",
      );
      expect(lines).toBeLessThan(50);
      await sshd.restart();
      await new Promise((r) => setTimeout(r, 600)); // past the transport's fail-fast window, if a dial failed meanwhile
      expect(await client.version()).toEqual({ version: '0.12.6' });
      expect(transport.status().reconnects).toBe(1);
    } finally {
      fake.state.pullDelayMs = 0;
      client.close();
      await transport.close();
    }
  });

  it('a frozen sshd (no RST, no FIN) → the channel open is bounded: 504 OLLAMA_TIMEOUT', async () => {
    const transport = transportFor(sshd);
    const client = tunnelled(transport, fake.url, { connectTimeoutMs: 1_000 });
    const listener = Number(readFileSync(`${sshd.dir}/sshd.pid`, 'utf8').trim());
    let frozen: number[] = [];
    try {
      expect((await transport.exec('true', execDefaults)).exitCode).toBe(0);
      // Stop the processes serving our connection: TCP stays up, nothing answers.
      frozen = descendants(listener);
      expect(frozen.length).toBeGreaterThan(0);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      const started = Date.now();
      const err = await appErrorOfAsync(client.version());
      expect(Date.now() - started).toBeLessThan(10_000);
      expect([err.status, err.code]).toEqual([504, 'OLLAMA_TIMEOUT']);
      expect(err.message).toBe(
        `Ollama at ${fake.url} (host 'whisper', through SSH to ${transport.address}) cannot be reached: ${transport.address} did not ` +
          `open a forwarded connection to 127.0.0.1:${fake.port} within 1 s; the SSH connection may be stalled or the host overloaded. Try again.`,
      );
    } finally {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
      client.close();
      await transport.close();
    }
  });
});
