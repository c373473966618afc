import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { call, startServer, type RunningServer } from '../support/server.js';
import { sharedSshd } from '../support/context.js';
import { pgrep } from '../support/processes.js';
import { waitFor } from '../support/waiting.js';

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';

describe.each(['ssh', 'local'] as const)('shell_exec over the %s transport', (transport) => {
  let server: RunningServer;
  let auditFile: string;

  beforeAll(async () => {
    const sshd = sharedSshd();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-shell-'));
    auditFile = `${dir}/audit.jsonl`;
    const hostBlock =
      transport === 'ssh'
        ? `    transport: ssh\n    ssh:\n      host: ${sshd.host}\n      port: ${sshd.port}\n      user: ${sshd.username}\n      private_key_path: ${sshd.privateKeyPath}\n      known_hosts: ${sshd.knownHostsPath}\n`
        : `    transport: local\n`;
    writeFileSync(
      `${dir}/config.yaml`,
      `keys:\n  admin: {key: ${FULL}, scopes: [read, write, shell]}\n  viewer: {key: ${READ}, scopes: [read]}\n` +
        `hosts:\n  gpu:\n${hostBlock}    shell:\n      max_timeout_seconds: 30\n      max_output_bytes: 4096\n      deny: ['\\brm\\s+-rf\\s+/(\\s|$)']\n` +
        `  locked:\n    transport: local\n    shell:\n      enabled: false\n`,
    );
    server = await startServer({ CONFIG_FILE: `${dir}/config.yaml`, AUDIT_LOG: auditFile });
  });
  afterAll(() => server?.stop());

  const exec = (body: object, key = FULL, headers?: Record<string, string>) =>
    call(server.url, 'POST', '/shell/exec', { key, body, headers });

  it('returns stdout, stderr and the exit code; a non-zero exit is a 200 result', async () => {
    const ok = await exec({ command: 'echo hello; echo oops >&2' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      host: 'gpu',
      exit_code: 0,
      signal: null,
      stdout: 'hello\n',
      stderr: 'oops\n',
      timed_out: false,
      output_limit_reached: false,
    });
    expect(ok.body.stdout_bytes).toBe(6);
    expect(ok.body.duration_ms).toBeGreaterThanOrEqual(0);
    const fail = await exec({ command: 'exit 3' });
    expect(fail.status).toBe(200);
    expect(fail.body.exit_code).toBe(3);
    const missing = await exec({ command: 'definitely-not-a-command-xyz' });
    expect(missing.body.exit_code).toBe(127);
  });

  it('runs in the given working directory with standard input closed', async () => {
    const res = await exec({ command: 'pwd; cat; echo done', cwd: '/tmp' });
    expect(res.body.stdout).toBe('/tmp\ndone\n');
    expect(res.body.exit_code).toBe(0);
  });

  it('kills a command that outlives its timeout, with its children, on the host', async () => {
    const marker = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}${transport.length}`;
    const res = await exec({ command: `sleep ${marker} & sleep ${marker}; echo never`, timeout_seconds: 1 });
    expect(res.status).toBe(200);
    expect(res.body.timed_out).toBe(true);
    expect(res.body.exit_code).toBeNull();
    expect(res.body.stdout).not.toContain('never');
    // Looking on the host: neither the foreground nor the background sleep may survive.
    await waitFor('the killed sleep to be gone', () => pgrep(`sleep ${marker}`).length === 0, 3000);
  });

  it('kills the command when the HTTP client disconnects', async () => {
    const marker = `${700 + Math.floor(Math.random() * 1000)}.${process.pid}${transport.length}`;
    const controller = new AbortController();
    const pending = fetch(new URL('/shell/exec', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${FULL}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: `sleep ${marker}`, timeout_seconds: 30 }),
      signal: controller.signal,
    }).catch(() => undefined);
    await waitFor('the sleep to start', () => pgrep(`sleep ${marker}`).length > 0, 5000);
    controller.abort();
    await pending;
    await waitFor('the killed sleep to be gone', () => pgrep(`sleep ${marker}`).length === 0, 5000);
  });

  it('keeps the beginning and the end of long output within the cap, with exact byte counts', async () => {
    const res = await exec({ command: "printf 'BEGIN'; head -c 200000 /dev/zero | tr '\\0' x; printf 'END'; echo err >&2" });
    expect(res.status).toBe(200);
    expect(res.body.stdout_truncated).toBe(true);
    expect(res.body.stdout_bytes).toBe(200_008);
    expect(res.body.stdout.startsWith('BEGINxxx')).toBe(true);
    expect(res.body.stdout.endsWith('xxxEND')).toBe(true);
    expect(res.body.stdout).toMatch(/bytes omitted/);
    expect(Buffer.byteLength(res.body.stdout)).toBeLessThan(4096 + 200);
    expect(res.body.stderr_truncated).toBe(false);
    expect(res.body.stderr).toBe('err\n');
  });

  it('answers a command that prints a gigabyte without holding it', async () => {
    const res = await exec({ command: 'head -c 1073741824 /dev/zero; echo tail-marker' }, FULL);
    expect(res.status).toBe(200);
    expect(res.body.stdout_truncated).toBe(true);
    expect(Buffer.byteLength(res.body.stdout)).toBeLessThan(4096 + 300);
    // The server stopped reading at the host's read limit and ended the command.
    expect(res.body.output_limit_reached).toBe(true);
    expect(res.body.exit_code).toBeNull();
    expect(res.body.stdout_bytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(res.body.stdout_bytes).toBeLessThan(17 * 1024 * 1024);
    expect(res.body.stdout).not.toContain('tail-marker');
  }, 60_000);

  it('reads to the end of output below the read limit', async () => {
    const res = await exec({ command: 'head -c 1000000 /dev/zero; echo tail-marker' });
    expect(res.body.output_limit_reached).toBe(false);
    expect(res.body.exit_code).toBe(0);
    expect(res.body.stdout_bytes).toBe(1_000_012);
    expect(res.body.stdout.endsWith('tail-marker\n')).toBe(true);
  });

  it('refuses commands by policy with 403 COMMAND_DENIED and the reason', async () => {
    const denied = await exec({ command: 'rm -rf /' });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('COMMAND_DENIED');
    expect(denied.body.message).toContain('deny pattern');
    const disabled = await exec({ command: 'true', host: 'locked' });
    expect(disabled.status).toBe(403);
    expect(disabled.body.code).toBe('COMMAND_DENIED');
    expect(disabled.body.message).toContain('disabled');
  });

  it('needs the shell scope and valid input', async () => {
    const ro = await exec({ command: 'true' }, READ);
    expect(ro.status).toBe(403);
    expect(ro.body.code).toBe('FORBIDDEN');
    const noKey = await call(server.url, 'POST', '/shell/exec', { body: { command: 'true' } });
    expect(noKey.status).toBe(401);
    const tooLong = await exec({ command: 'true', timeout_seconds: 31 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toContain('at most 30');
    const wrongType = await exec({ command: 42 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toContain('command');
    const empty = await exec({});
    expect(empty.status).toBe(400);
    for (const body of [{ command: 'echo a\u0000; echo b' }, { command: 'pwd', cwd: '/tmp\u0000/x' }]) {
      const nul = await exec(body);
      expect(nul.status).toBe(400);
      expect(nul.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(nul.body.message).toMatch(/must not contain NUL bytes/);
    }
    const badJson = await call(server.url, 'POST', '/shell/exec', { key: FULL, body: '{"command":' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe('VALIDATION_FAILED');
  });

  it('writes one audit line per call, with the key name and Open WebUI user, never the key', async () => {
    // Audit lines are written asynchronously: let the earlier tests' lines land first.
    await new Promise((r) => setTimeout(r, 300));
    const before = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).length;
    await exec({ command: 'echo audited-call' }, FULL, { 'X-OpenWebUI-User-Name': 'Ada', 'X-OpenWebUI-User-Email': 'ada@example.org' });
    await new Promise((r) => setTimeout(r, 200));
    const lines = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBe(before + 1);
    const entry = JSON.parse(lines.at(-1)!);
    expect(entry).toMatchObject({
      key: 'admin',
      operation: 'shell_exec',
      host: 'gpu',
      outcome: 'ok',
      status: 200,
      user: { name: 'Ada', email: 'ada@example.org' },
    });
    expect(entry.args.command).toBe('echo audited-call');
    expect(readFileSync(auditFile, 'utf8')).not.toContain(FULL);
  });
});
