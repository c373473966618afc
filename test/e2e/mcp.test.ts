import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { call, CLI, runCli, startServer, type RunningServer, sshEnv } from '../support/server.js';
import { sharedSshd } from '../support/context.js';
import { privateNvidiaSmi } from '../support/fake-nvidia-smi.js';
import { connectMcp, resultJson } from '../support/mcp-client.js';
import { inlineRefs } from '../support/openapi-refs.js';

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';
const SCENARIO = 'linux-x86_64__nvidia-h100-mig__590.48.01__load';

/**
 * The tool input schema a client should see for an OpenAPI operation, derived here independently of
 * the server's code: query/path parameters or the JSON body, with every $ref inlined.
 */
function expectedInputSchema(doc: any, op: any): any {
  const inline = (node: any): any => inlineRefs(doc, node);

  if (op.requestBody) {
    const body = inline(op.requestBody.content['application/json'].schema);
    const params = (op.parameters ?? []).filter((p: any) => p.in === 'path');
    for (const p of params) {
      body.properties = { [p.name]: { ...p.schema, description: p.description }, ...body.properties };
      body.required = [p.name, ...(body.required ?? [])];
    }
    if (body.required?.length === 0) delete body.required;
    return body;
  }
  const schema: any = { type: 'object', properties: {} };
  const required: string[] = [];
  for (const p of op.parameters ?? []) {
    schema.properties[p.name] = { ...inline(p.schema), ...(p.description ? { description: p.description } : {}) };
    if (p.required) required.push(p.name);
  }
  if (required.length) schema.required = required;
  return schema;
}

describe('MCP over Streamable HTTP', () => {
  let server: RunningServer;
  let doc: any;

  beforeAll(async () => {
    const sshd = sharedSshd();
    server = await startServer({
      NVIDIA_SMI_PATH: privateNvidiaSmi(SCENARIO).path,
      ...sshEnv(sshd),
      API_KEY: FULL,
      READONLY_API_KEY: READ,
    });
    doc = (await call(server.url, 'GET', '/openapi.json')).body;
  });
  afterAll(() => server?.stop());

  const restOperations = () => Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op)) as any[];

  it('lists every REST operation as a tool with an equal, self-contained input schema (contract)', async () => {
    const mcp = await connectMcp(server.url, FULL);
    try {
      const { tools, nextCursor } = await mcp.client.listTools();
      expect(nextCursor).toBeUndefined();
      const ops = restOperations();
      expect(tools.map((t) => t.name).sort()).toEqual(ops.map((o) => o.operationId).sort());
      for (const op of ops) {
        const tool = tools.find((t) => t.name === op.operationId)!;
        expect(tool.description).toBe(op.description);
        expect(tool.inputSchema).toEqual(expectedInputSchema(doc, op));
        expect(JSON.stringify(tool.inputSchema)).not.toContain('$ref');
        expect(tool.annotations?.readOnlyHint).toBe(op['x-required-scope'] === 'read');
      }
    } finally {
      await mcp.close();
    }
  });

  it('shows a read-only key only the read tools and refuses the others', async () => {
    const mcp = await connectMcp(server.url, READ);
    try {
      const { tools } = await mcp.client.listTools();
      const readOps = restOperations().filter((o) => o['x-required-scope'] === 'read');
      expect(tools.map((t) => t.name).sort()).toEqual(readOps.map((o) => o.operationId).sort());
      expect(tools.some((t) => t.name === 'shell_exec')).toBe(false);
      const refused = await mcp.client.callTool({ name: 'shell_exec', arguments: { command: 'id' } });
      expect(refused.isError).toBe(true);
      expect(resultJson(refused)).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    } finally {
      await mcp.close();
    }
  });

  it('returns the same result as REST, as one JSON text block plus structuredContent', async () => {
    const mcp = await connectMcp(server.url, READ);
    try {
      const result: any = await mcp.client.callTool({ name: 'gpu_status', arguments: {} });
      expect(result.isError).toBeFalsy();
      const json = resultJson(result);
      expect(result.structuredContent).toEqual(json);
      const rest = await call(server.url, 'GET', '/gpu/status', { key: READ });
      // Two calls may be answered from two sampler readings: the times differ, nothing else.
      const { collected_at: _a, sampled_at: _c, ...fromMcp } = json;
      const { collected_at: _b, sampled_at: _d, ...fromRest } = rest.body;
      expect(fromMcp).toEqual(fromRest);
      expect(json.gpus[0].utilization_percent).toBeNull(); // MIG reports no utilization
    } finally {
      await mcp.close();
    }
  });

  it('reports errors as isError results with the REST code and message', async () => {
    const mcp = await connectMcp(server.url, FULL);
    try {
      const unknown: any = await mcp.client.callTool({ name: 'gpu_status', arguments: { host: 'nope' } });
      expect(unknown.isError).toBe(true);
      const body = resultJson(unknown);
      const rest = await call(server.url, 'GET', '/gpu/status', { key: READ, query: { host: 'nope' } });
      expect(body).toEqual(rest.body);
      const invalid: any = await mcp.client.callTool({ name: 'shell_exec', arguments: { command: 5, extra: true } });
      expect(invalid.isError).toBe(true);
      expect(resultJson(invalid)).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(resultJson(invalid).message).toContain('extra: unknown field');
      const nonzero: any = await mcp.client.callTool({ name: 'shell_exec', arguments: { command: 'echo hi; exit 4' } });
      expect(nonzero.isError).toBeFalsy();
      expect(resultJson(nonzero)).toMatchObject({ exit_code: 4, stdout: 'hi\n' });
    } finally {
      await mcp.close();
    }
  });

  it('serves a client pinned to protocol 2025-06-18 and the current one on 2025-11-25', async () => {
    const old = await connectMcp(server.url, READ, '2025-06-18');
    try {
      expect(old.negotiated).toEqual(['2025-06-18']);
      const { tools } = await old.client.listTools();
      expect(tools.length).toBeGreaterThan(3);
      expect(old.sentVersionHeaders).toContain('2025-06-18');
      const res: any = await old.client.callTool({ name: 'list_hosts', arguments: {} });
      expect(resultJson(res).hosts[0].name).toBe('whisper');
    } finally {
      await old.close();
    }
    const current = await connectMcp(server.url, READ);
    try {
      expect(current.negotiated).toEqual(['2025-11-25']);
    } finally {
      await current.close();
    }
  });

  it('refuses a missing key and a foreign Origin; with a key any Host is accepted (ALLOWED_HOSTS unset)', async () => {
    await expect(connectMcp(server.url)).rejects.toThrow();
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    };
    const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${READ}` };
    const noKey = await fetch(new URL('/mcp', server.url), {
      method: 'POST',
      headers: { ...headers, authorization: '' },
      body: JSON.stringify(init),
    });
    expect(noKey.status).toBe(401);
    // fetch cannot override Host; use node:http. An Open WebUI on another machine reaches the server
    // by a LAN address, and a rebound name carries no key: the key is the boundary here.
    const { request } = await import('node:http');
    const postWithHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(new URL('/mcp', server.url), { method: 'POST', headers: { ...headers, host } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(init));
      });
    for (const host of ['192.0.2.2:8000', 'evil.example:8000']) {
      const lan = await postWithHost(host);
      expect(lan.status, host).toBe(200);
      expect(lan.body).toContain('"protocolVersion":"2025-06-18"');
    }
    const badOrigin = await fetch(new URL('/mcp', server.url), {
      method: 'POST',
      headers: { ...headers, origin: 'http://evil.example' },
      body: JSON.stringify(init),
    });
    expect(badOrigin.status).toBe(403);
    expect(((await badOrigin.json()) as { code: string }).code).toBe('ORIGIN_NOT_ALLOWED');
    const get = await fetch(new URL('/mcp', server.url), { headers: { authorization: `Bearer ${READ}` } });
    expect(get.status).toBe(405);
  });
});

describe('MCP over stdio', () => {
  it('lists and calls tools with the same configuration, logging only to stderr', async () => {
    const sshd = sharedSshd();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp-stdio'],
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        ...sshEnv(sshd),
        NVIDIA_SMI_PATH: privateNvidiaSmi(SCENARIO).path,
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport); // a log line on stdout would break the JSON-RPC framing here
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('shell_exec');
      const gpu: any = await client.callTool({ name: 'gpu_status', arguments: {} });
      expect(resultJson(gpu)).toMatchObject({ host: 'whisper', driver_version: '590.48.01' });
      const sh: any = await client.callTool({ name: 'shell_exec', arguments: { command: 'echo from-stdio' } });
      expect(resultJson(sh).stdout).toBe('from-stdio\n');
    } finally {
      await client.close();
    }
  });

  it('refuses to start when MCP_STDIO_KEY is set but no keys are configured, or matches none', async () => {
    const base = { HOME: process.env.HOME };
    for (const [env, expected] of [
      [{ ...base, MCP_STDIO_KEY: READ }, /MCP_STDIO_KEY: is set but no API keys are configured/],
      [{ ...base, MCP_STDIO_KEY: READ, API_KEY: FULL }, /MCP_STDIO_KEY: matches none of the configured keys/],
    ] as const) {
      const { code, stdout, stderr } = await runCli(['mcp-stdio'], env);
      expect(code).toBe(1);
      expect(stdout).toBe(''); // stdout is the protocol channel
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
      expect(stderr).not.toContain(READ);
    }
  });

  it('applies the scopes of the key MCP_STDIO_KEY names', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp-stdio'],
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, API_KEY: FULL, READONLY_API_KEY: READ, MCP_STDIO_KEY: READ },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-key-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_hosts');
      expect(names).not.toContain('shell_exec');
      expect(names).not.toContain('files_write');
      const refused: any = await client.callTool({ name: 'shell_exec', arguments: { command: 'id' } });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    } finally {
      await client.close();
    }
  });
});

describe('MCP progress and tool list sizes', () => {
  let server: RunningServer;
  let ollama: Awaited<ReturnType<(typeof import('../support/fake-ollama.js'))['startFakeOllama']>>;

  beforeAll(async () => {
    const { startFakeOllama } = await import('../support/fake-ollama.js');
    ollama = await startFakeOllama();
    // Slow the fake's download so the pull spans several progress intervals.
    ollama.state.pullDelayMs = 150;
    ollama.state.pullChunksPerLayer = 20;
    server = await startServer({ OLLAMA_URL: ollama.url, API_KEY: FULL, READONLY_API_KEY: READ, FILES_ROOT: '/tmp' });
  });
  afterAll(async () => {
    await server?.stop();
    await ollama?.stop();
  });

  it('sends progress notifications for a pull when the client gives a progress token, and returns the job', async () => {
    const mcp = await connectMcp(server.url, FULL);
    try {
      const seen: Array<{ progress: number; total?: number; message?: string }> = [];
      const result: any = await mcp.client.callTool(
        { name: 'ollama_pull_model', arguments: { model: 'gemma:2b', wait_seconds: 60 } },
        undefined,
        {
          onprogress: (p) => seen.push(p),
          timeout: 90_000,
        },
      );
      const job = resultJson(result);
      expect(job).toMatchObject({ kind: 'pull', model: 'gemma:2b', state: 'succeeded', percent: 100 });
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < seen.length; i++) expect(seen[i].progress).toBeGreaterThan(seen[i - 1].progress);
      expect(seen.at(-1)!.total).toBeGreaterThan(0);
      expect(seen.some((p) => /pulling [0-9a-f]{12}/.test(p.message ?? ''))).toBe(true);
    } finally {
      await mcp.close();
    }
  }, 120_000);

  it('returns the running job within the wait bound when the pull takes longer', async () => {
    ollama.state.pullDelayMs = 400;
    const mcp = await connectMcp(server.url, FULL);
    try {
      const started = Date.now();
      const result: any = await mcp.client.callTool(
        { name: 'ollama_pull_model', arguments: { model: 'qwen2.5:0.5b', wait_seconds: 1 } },
        undefined,
        { onprogress: () => {} },
      );
      const job = resultJson(result);
      expect(job.state).toBe('running');
      expect(Date.now() - started).toBeLessThan(10_000);
      const cancelled: any = await mcp.client.callTool({ name: 'ollama_cancel_job', arguments: { job_id: job.job_id } });
      expect(resultJson(cancelled).state).toBe('cancelled');
    } finally {
      await mcp.close();
    }
  });

  it('lists all tools in one page; sizes recorded for the closing note', async () => {
    for (const [key, label] of [
      [FULL, 'full'],
      [READ, 'read-only'],
    ] as const) {
      const res = await fetch(new URL('/mcp', server.url), {
        method: 'POST',
        headers: {
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      const text = await res.text();
      const data = text
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6);
      const msg = JSON.parse(data);
      expect(msg.result.nextCursor).toBeUndefined();
      console.log(
        `tools/list for the ${label} key: ${msg.result.tools.length} tools, ${Buffer.byteLength(JSON.stringify(msg.result))} bytes`,
      );
      expect(msg.result.tools.length).toBe(label === 'full' ? 28 : 16);
    }
  });
});
