/**
 * What a new user meets in the first hour, against the built server as shipped: the example
 * configuration, keygen and --env, the start-up line, a port in use, stopping `npm start`, the
 * messages for a mistyped key or field, and the spec profiles.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_ENV, call, runCli, startServer, type RunningServer, expectError } from '../support/server.js';
import { descendants } from '../support/processes.js';
import { freePort } from '../support/sshd.js';

const EXAMPLE = path.resolve('config.example.yaml');
/** The read-only key the example ships (documented there as the one to replace). */
const EXAMPLE_READ_KEY = 'change-me-to-a-long-random-string';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ght-first-hour-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once nothing accepts connections on 127.0.0.1:port any more (false after `withinMs`). */
async function portFreed(port: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('the example configuration', () => {
  let server: RunningServer | undefined;
  afterAll(() => server?.stop());

  it('starts as shipped, with its keys and both hosts', async () => {
    // HOME is a fresh directory: the example's ~/.ssh paths point at nothing, and start-up reads none.
    server = await startServer({ CONFIG_FILE: EXAMPLE, HOME: dir });
    expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);
    expectError(await call(server.url, 'GET', '/hosts/resources', { query: { host: 'this-box' } }), 401, 'UNAUTHORIZED');
    // The local host answers without any network; the ssh host is never dialled by this test.
    const local = await call(server.url, 'GET', '/hosts/resources', { key: EXAMPLE_READ_KEY, query: { host: 'this-box' } });
    expect(local.status).toBe(200);
    expect(local.body.host).toBe('this-box');
    const shell = await call(server.url, 'POST', '/shell/exec', { key: EXAMPLE_READ_KEY, body: { host: 'this-box', command: 'true' } });
    expectError(shell, 403, 'FORBIDDEN');
    expect(server.output()).not.toMatch(/error/i);
  });

  it('gives the local host a narrow files root, not the whole home directory', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const thisBox = text.slice(text.indexOf('  this-box:'));
    expect(thisBox).toMatch(/\n {4}files_root: \/srv\/ollama-files\n/);
  });

  it('with the digest unquoted, says that YAML read it as a number and to quote it', async () => {
    const unquoted = path.join(dir, 'unquoted.yaml');
    writeFileSync(unquoted, readFileSync(EXAMPLE, 'utf8').replace(/sha256: "(0{64})"/, 'sha256: $1'));
    expect(readFileSync(unquoted, 'utf8')).toContain(`sha256: ${'0'.repeat(64)}\n`);
    const r = await runCli(['serve'], { CONFIG_FILE: unquoted, HOME: dir, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'gpu-host-tools: configuration error: keys.admin.sha256: must be 64 lowercase hex characters; YAML read this as the number 0: quote the value',
    );
  });
});

describe('keygen and --env', () => {
  const hex48 = /^[0-9a-f]{48}$/;
  const parse = (file: string) =>
    Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );

  it('writes two fresh keys to a mode-600 file and prints where they are and what to paste', async () => {
    const file = path.join(dir, 'keys.env');
    const r = await runCli(['keygen', '--out', file], { HOME: dir });
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keys = parse(file);
    expect(keys.API_KEY).toMatch(hex48);
    expect(keys.READONLY_API_KEY).toMatch(hex48);
    expect(keys.API_KEY).not.toBe(keys.READONLY_API_KEY);
    expect(r.stdout).toContain(file);
    expect(r.stdout).toContain(`--env ${file}`);
    expect(r.stdout).toMatch(new RegExp(`openapi\\.json: +${keys.API_KEY}`));
    expect(r.stdout).toMatch(new RegExp(`openapi/readonly\\.json: +${keys.READONLY_API_KEY}`));

    const again = await runCli(['keygen', '--out', file], { HOME: dir });
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(
      `gpu-host-tools: ${file} already exists; pass --force to replace the keys in it (its other lines are kept)`,
    );
    expect(parse(file)).toEqual(keys);
  });

  it('--force replaces only the keys, keeps the other lines and makes the file private again', async () => {
    const file = path.join(dir, 'rotate.env');
    writeFileSync(
      file,
      '# my settings\nSSH_HOST=10.0.1.201\nAPI_KEY=old-admin-key-0123456789\nexport READONLY_API_KEY=old-read-key-0123456789\n',
    );
    chmodSync(file, 0o644);
    const r = await runCli(['keygen', '--out', file, '--force'], { HOME: dir });
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my settings\nSSH_HOST=10.0.1.201\n');
    expect(text).not.toContain('old-');
    expect(text.match(/API_KEY=/g)).toHaveLength(2); // API_KEY and READONLY_API_KEY, once each
    expect(parse(file).API_KEY).toMatch(hex48);
  });

  it('refuses unknown options with the usage', async () => {
    const r = await runCli(['keygen', '--outt', 'x'], { HOME: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--outt'");
    expect(r.stderr).toContain('usage: gpu-host-tools');
  });

  it('serves with the keys from --env; a variable set in the environment wins over the file', async () => {
    const file = path.join(dir, 'serve.env');
    expect((await runCli(['keygen', '--out', file], { HOME: dir })).code).toBe(0);
    const { API_KEY, READONLY_API_KEY } = parse(file);
    const server = await startServer({ HOME: dir }, 15_000, ['--env', file]);
    try {
      expectError(await call(server.url, 'GET', '/hosts'), 401, 'UNAUTHORIZED');
      expect((await call(server.url, 'GET', '/hosts', { key: READONLY_API_KEY })).status).toBe(200);
      expectError(await call(server.url, 'POST', '/shell/exec', { key: READONLY_API_KEY, body: { command: 'true' } }), 403, 'FORBIDDEN');
      expect((await call(server.url, 'POST', '/shell/exec', { key: API_KEY, body: { command: 'true' } })).status).toBe(200);
    } finally {
      await server.stop();
    }
    const override = 'override-key-0123456789abcdef';
    const overridden = await startServer({ HOME: dir, API_KEY: override }, 15_000, ['--env', file]);
    try {
      expect((await call(overridden.url, 'GET', '/hosts', { key: override })).status).toBe(200);
      expectError(await call(overridden.url, 'GET', '/hosts', { key: API_KEY }), 401, 'UNAUTHORIZED');
    } finally {
      await overridden.stop();
    }
  });

  it('names --env when the file cannot be read', async () => {
    const r = await runCli(['serve', '--env', path.join(dir, 'missing.env')], { HOME: dir, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`gpu-host-tools: configuration error: --env: cannot read ${path.join(dir, 'missing.env')} (ENOENT)`);
  });
});

describe('what the server says at start-up', () => {
  it('names the address it really listens on, in one line, without Nest route mapping', async () => {
    const server = await startServer({ BIND_ADDRESS: '0.0.0.0', API_KEY: 'a-key-of-at-least-16-chars' });
    try {
      const port = new URL(server.url).port;
      const lines = server.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^gpu-host-tools listening on http://0\\.0\\.0\\.0:${port} \\(every interface of this machine; docs at /docs\\) in \\d+ ms$`,
        ),
      );
      expect(server.output()).not.toContain('127.0.0.1');
    } finally {
      await server.stop();
    }
  });

  it('on loopback names 127.0.0.1 and its docs URL', async () => {
    const server = await startServer({});
    try {
      expect(server.output().trim()).toMatch(/^gpu-host-tools listening on (http:\/\/127\.0\.0\.1:\d+) \(docs at \1\/docs\) in \d+ ms$/);
    } finally {
      await server.stop();
    }
  });

  it('prints the route mapping at LOG_LEVEL=debug', async () => {
    const server = await startServer({ LOG_LEVEL: 'debug' });
    try {
      expect(server.output()).toContain('Mapped {/gpu/status, GET} route');
      expect(server.output()).toContain('RoutesResolver');
    } finally {
      await server.stop();
    }
    const bad = await runCli(['serve'], { LOG_LEVEL: 'chatty', PORT: '0' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      'gpu-host-tools: configuration error: LOG_LEVEL / server.log_level: must be one of error, warn, log, debug',
    );
  });

  it('PORT=abc says it is not a number', async () => {
    const r = await runCli(['serve'], { PORT: 'abc' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('gpu-host-tools: configuration error: PORT / server.port: "abc" is not a number');
  });

  it('reports a port in use in one line naming the address and the settings, before anything says started', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve'], { PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
      expect(lines[0]).toContain('PORT');
      expect(lines[0]).toContain('BIND_ADDRESS');
      expect(r.stderr).not.toMatch(/started|listening on/);
    } finally {
      blocker.close();
    }
  });

  it('says which address is not on this machine', async () => {
    // 192.0.2.1 (TEST-NET-1) is assigned to no machine: binding to it fails without any traffic.
    const r = await runCli(['serve'], { BIND_ADDRESS: '192.0.2.1', API_KEY: 'a-key-of-at-least-16-chars', PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/cannot listen on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine; set BIND_ADDRESS/);
  });
});

describe('stopping', () => {
  it('kill of the `npm start` process stops the server and frees the port', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: process.cwd(),
      env: { ...BASE_ENV, HOME: dir, PORT: String(port), npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let started: number[] = [];
    npm.stdout!.on('data', (d) => (output += d));
    npm.stderr!.on('data', (d) => (output += d));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not start within 30 s:\n${output}`)), 30_000);
        npm.stdout!.on('data', () => {
          if (output.includes('listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
        npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
      });
      expect((await call(`http://127.0.0.1:${port}`, 'GET', '/healthz')).status).toBe(200);
      started = descendants(npm.pid!);
      expect(started.length).toBeGreaterThan(0);
      npm.kill('SIGTERM'); // what `kill <pid of npm>` sends
      await once(npm, 'exit');
      expect(await portFreed(port, 30_000)).toBe(true);
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
      // Should the server outlive npm (the failure this test is about), do not leave it running.
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 60_000);
});

describe('messages', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ HOME: dir });
  });
  afterAll(() => server?.stop());

  it('a missing required field says "required"; an unknown one names the nearest known field', async () => {
    const missing = await call(server.url, 'POST', '/shell/exec', { body: {} });
    expectError(missing, 400, 'VALIDATION_FAILED');
    expect(missing.body.message).toBe('Invalid input: command: required.');
    const typo = await call(server.url, 'POST', '/shell/exec', { body: { cmd: 'ls' } });
    expectError(typo, 400, 'VALIDATION_FAILED');
    expect(typo.body.message).toBe('Invalid input: cmd: unknown field (did you mean command?).');
  });

  it('a mistyped MCP_STDIO_KEY names that variable', async () => {
    const r = await runCli(['mcp-stdio'], { HOME: dir, API_KEY: 'the-right-key-0123456789', MCP_STDIO_KEY: 'the-rihgt-key-0123456789' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // stdout belongs to the protocol
    expect(r.stderr.trim()).toMatch(/^gpu-host-tools: configuration error: MCP_STDIO_KEY: matches none of the configured keys/);
    expect(r.stderr).not.toContain('the-r');
    const noKeys = await runCli(['mcp-stdio'], { HOME: dir, MCP_STDIO_KEY: 'the-right-key-0123456789' });
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr.trim()).toMatch(/^gpu-host-tools: configuration error: MCP_STDIO_KEY: is set but no API keys are configured/);
  });

  it('each spec profile carries exactly the schemas its operations reach', async () => {
    const full = (await call(server.url, 'GET', '/openapi.json')).body;
    for (const profile of ['readonly', 'hosts', 'gpu', 'ollama', 'shell', 'files']) {
      const doc = (await call(server.url, 'GET', `/openapi/${profile}.json`)).body;
      const refs = new Set(JSON.stringify(doc.paths).match(/#\/components\/schemas\/[A-Za-z0-9_]+/g));
      // Every schema a path names directly is there, every $ref anywhere resolves, and no schema is
      // kept that nothing reaches (a schema is reached from a path or from another kept schema).
      for (const ref of refs) expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!);
      const all = JSON.stringify(doc);
      for (const ref of all.match(/#\/components\/schemas\/[A-Za-z0-9_]+/g) ?? [])
        expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!);
      const referencedByOthers = (name: string) =>
        Object.entries(doc.components.schemas).some(
          ([other, s]) => other !== name && JSON.stringify(s).includes(`#/components/schemas/${name}"`),
        );
      for (const name of Object.keys(doc.components.schemas))
        expect(refs.has(`#/components/schemas/${name}`) || referencedByOthers(name)).toBe(true);
      expect(Object.keys(doc.components.schemas).length).toBeLessThan(Object.keys(full.components.schemas).length);
    }
    const gpu = (await call(server.url, 'GET', '/openapi/gpu.json')).body;
    expect(Object.keys(gpu.components.schemas).sort()).toEqual([
      'ErrorResponse',
      'GpuHistoryGpu',
      'GpuHistoryProcess',
      'GpuHistoryResult',
      'GpuHistorySeries',
      'GpuHistoryStat',
      'GpuInfo',
      'GpuProcess',
      'GpuStatusResult',
    ]);
  });
});
