import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connectMcp } from '../support/mcp-client.js';
import { call, startServer, type RunningServer } from '../support/server.js';

/**
 * Every write and shell call that is refused leaves exactly one audit line with its outcome, on REST
 * and on MCP. Each call carries its own Open WebUI user id, which the audit records, so its line can
 * be told from every other.
 */

const ADMIN = 'admin-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';

interface Refusal {
  name: string;
  key: string;
  tool: string;
  method: 'POST';
  path: string;
  args: Record<string, unknown>;
  status: number;
  code: string;
  outcome: 'refused' | 'ok';
}

const CASES: Refusal[] = [
  {
    name: 'jail: write outside the root',
    key: ADMIN,
    tool: 'files_write',
    method: 'POST',
    path: '/files/write',
    args: { path: '../elsewhere/x', content: 'escape' },
    status: 403,
    code: 'PATH_OUTSIDE_ROOT',
    outcome: 'refused',
  },
  {
    name: 'jail: delete the root itself',
    key: ADMIN,
    tool: 'files_delete',
    method: 'POST',
    path: '/files/delete',
    args: { path: '.', recursive: true },
    status: 403,
    code: 'FORBIDDEN',
    outcome: 'refused',
  },
  {
    name: 'jail: move onto a path outside',
    key: ADMIN,
    tool: 'files_move',
    method: 'POST',
    path: '/files/move',
    args: { from: 'inside.txt', to: '/etc/passwd-copy' },
    status: 403,
    code: 'PATH_OUTSIDE_ROOT',
    outcome: 'refused',
  },
  {
    name: 'protected path: write to .ssh/authorized_keys',
    key: ADMIN,
    tool: 'files_write',
    method: 'POST',
    path: '/files/write',
    args: { path: '.ssh/authorized_keys', content: 'ssh-ed25519 AAAA attacker', create_parents: true },
    status: 403,
    code: 'PATH_PROTECTED',
    outcome: 'refused',
  },
  {
    name: 'shell policy: denied command',
    key: ADMIN,
    tool: 'shell_exec',
    method: 'POST',
    path: '/shell/exec',
    args: { command: 'rm -rf /' },
    status: 403,
    code: 'COMMAND_DENIED',
    outcome: 'refused',
  },
  {
    name: 'scope: read-only key on a write',
    key: VIEWER,
    tool: 'files_write',
    method: 'POST',
    path: '/files/write',
    args: { path: 'viewer.txt', content: 'nope' },
    status: 403,
    code: 'FORBIDDEN',
    outcome: 'refused',
  },
  {
    name: 'scope: read-only key on shell_exec',
    key: VIEWER,
    tool: 'shell_exec',
    method: 'POST',
    path: '/shell/exec',
    args: { command: 'id' },
    status: 403,
    code: 'FORBIDDEN',
    outcome: 'refused',
  },
  {
    name: 'scope: read-only key on an Ollama write',
    key: VIEWER,
    tool: 'ollama_delete_model',
    method: 'POST',
    path: '/ollama/delete',
    args: { model: 'llama3.2' },
    status: 403,
    code: 'FORBIDDEN',
    outcome: 'refused',
  },
  {
    name: 'validation: wrong type',
    key: ADMIN,
    tool: 'files_write',
    method: 'POST',
    path: '/files/write',
    args: { path: 'typed.txt', content: 5 },
    status: 400,
    code: 'VALIDATION_FAILED',
    outcome: 'refused',
  },
  {
    name: 'validation: unknown field on shell_exec',
    key: ADMIN,
    tool: 'shell_exec',
    method: 'POST',
    path: '/shell/exec',
    args: { command: 'id', sudo: true },
    status: 400,
    code: 'VALIDATION_FAILED',
    outcome: 'refused',
  },
  {
    name: 'validation: NUL byte in a path',
    key: ADMIN,
    tool: 'files_mkdir',
    method: 'POST',
    path: '/files/mkdir',
    args: { path: 'a\u0000b' },
    status: 400,
    code: 'VALIDATION_FAILED',
    outcome: 'refused',
  },
  {
    name: 'accepted write (control)',
    key: ADMIN,
    tool: 'files_write',
    method: 'POST',
    path: '/files/write',
    args: { path: 'ok.txt', content: 'fine' },
    status: 200,
    code: '',
    outcome: 'ok',
  },
];

/** Ollama paths as the spec has them, so a renamed route fails here rather than passing by a 404. */
async function checkPaths(base: string) {
  const doc = (await call(base, 'GET', '/openapi.json')).body;
  for (const c of CASES) expect(doc.paths[c.path]?.post?.operationId, c.path).toBe(c.tool);
}

describe('audit lines for refused write and shell calls', () => {
  let server: RunningServer;
  let dir: string;
  let auditFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(`${tmpdir()}/ght-audit-`);
    mkdirSync(`${dir}/root`);
    mkdirSync(`${dir}/elsewhere`);
    writeFileSync(`${dir}/root/inside.txt`, 'inside');
    auditFile = `${dir}/audit.jsonl`;
    writeFileSync(
      `${dir}/config.yaml`,
      `keys:\n  admin: {key: ${ADMIN}, scopes: [read, write, shell]}\n  viewer: {key: ${VIEWER}, scopes: [read]}\n` +
        `hosts:\n  gpu:\n    transport: local\n    files_root: ${dir}/root\n    ollama_url: http://127.0.0.1:9\n` +
        `    shell:\n      deny: ['\\brm\\s+-rf\\s+/(\\s|$)']\n`,
    );
    server = await startServer({ CONFIG_FILE: `${dir}/config.yaml`, AUDIT_LOG: auditFile });
    await checkPaths(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = (): any[] =>
    existsSync(auditFile)
      ? readFileSync(auditFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];

  /** Lines are written in call order: once a later call's line is there, every earlier one is too. */
  async function settle() {
    const id = `sentinel-${Math.random()}`;
    await call(server.url, 'POST', '/files/write', {
      key: ADMIN,
      body: { path: 'sentinel.txt', content: 's' },
      headers: { 'x-openwebui-user-id': id },
    });
    const end = Date.now() + 10_000;
    while (!lines().some((l) => l.user?.id === id) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(lines().some((l) => l.user?.id === id)).toBe(true);
  }

  async function mcpCall(key: string, userId: string, tool: string, args: Record<string, unknown>) {
    const mcp = await connectMcp(server.url, key, undefined, { 'x-openwebui-user-id': userId });
    try {
      return (await mcp.client.callTool({ name: tool, arguments: args })) as any;
    } finally {
      await mcp.close();
    }
  }

  const expectOneLine = (userId: string, c: Refusal, surface: 'rest' | 'mcp') => {
    const mine = lines().filter((l) => l.user?.id === userId);
    expect(mine, `${c.name} (${surface})`).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      surface,
      operation: c.tool,
      host: 'gpu',
      key: c.key === ADMIN ? 'admin' : 'viewer',
      outcome: c.outcome,
      status: c.status,
    });
    if (c.code) expect(mine[0].code).toBe(c.code);
    else expect(mine[0].code).toBeUndefined();
    expect(typeof mine[0].duration_ms).toBe('number');
    // The content is never in the audit, refused or not.
    if (typeof c.args.content === 'string') expect(JSON.stringify(mine[0])).not.toContain(c.args.content);
  };

  it('REST: each refusal writes exactly one line with its outcome, status and code', async () => {
    for (const [i, c] of CASES.entries()) {
      const userId = `rest-${i}`;
      const res = await call(server.url, c.method, c.path, { key: c.key, body: c.args, headers: { 'x-openwebui-user-id': userId } });
      expect(res.status, c.name).toBe(c.status);
      if (c.code) expect(res.body.code, c.name).toBe(c.code);
    }
    await settle();
    for (const [i, c] of CASES.entries()) expectOneLine(`rest-${i}`, c, 'rest');
    expect(existsSync(`${dir}/elsewhere/x`)).toBe(false);
    expect(existsSync(`${dir}/root/viewer.txt`)).toBe(false);
  });

  it('MCP: each refusal writes exactly one line with its outcome, status and code', async () => {
    for (const [i, c] of CASES.entries()) {
      const result = await mcpCall(c.key, `mcp-${i}`, c.tool, c.args);
      expect(Boolean(result.isError), c.name).toBe(c.status >= 400);
      if (c.code) expect(result.structuredContent.code, c.name).toBe(c.code);
    }
    await settle();
    for (const [i, c] of CASES.entries()) expectOneLine(`mcp-${i}`, c, 'mcp');
  });

  it('leaves no line for a call without a valid key (no caller to name), on either surface', async () => {
    const res = await call(server.url, 'POST', '/files/write', {
      key: 'wrong-key-0123456789abcdef',
      body: { path: 'nokey.txt', content: 'x' },
      headers: { 'x-openwebui-user-id': 'no-key' },
    });
    expect(res.status).toBe(401);
    await expect(mcpCall('wrong-key-0123456789abcdef', 'no-key-mcp', 'files_write', { path: 'nokey.txt', content: 'x' })).rejects.toThrow();
    await settle();
    expect(lines().filter((l) => l.user?.id === 'no-key' || l.user?.id === 'no-key-mcp')).toEqual([]);
  });

  it('never holds a key, in the audit file or in the server output', async () => {
    await settle();
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit.length).toBeGreaterThan(0);
    for (const secret of [ADMIN, VIEWER, 'wrong-key-0123456789abcdef']) {
      expect(audit).not.toContain(secret);
      expect(server.output()).not.toContain(secret);
    }
  });
});
