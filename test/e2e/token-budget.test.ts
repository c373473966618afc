/**
 * What a small model receives: default answers within the host's answer size (12 KiB by default), each
 * saying what was left out and how to get it; explicit requests for more up to the hard limits; the
 * per-host setting; and a served spec that advertises `host` only when there is a choice and carries no
 * validation patterns, while the server still applies them. The built server on the local transport,
 * a fake Ollama, files in a temp directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call, startServer, type RunningServer } from '../support/server.js';
import { addModel, fakeDigest, modelKey, startFakeOllama, type FakeModel, type FakeOllama } from '../support/fake-ollama.js';
import { connectMcp } from '../support/mcp-client.js';

const KEY = 'token-budget-key-0123456789';
const BUDGET = 12 * 1024;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ght-token-budget-'));
const root = path.join(tmp, 'files');

// 1 MB of log text, 1,500 files in one directory, 300 Modelfiles for a search.
const logText = Array.from({ length: 20_000 }, (_, i) => `line ${i}: ollama[1]: "POST /api/chat" 200\n`).join('');
mkdirSync(path.join(root, 'many'), { recursive: true });
writeFileSync(path.join(root, 'big.log'), logText);
for (let i = 0; i < 1500; i++) writeFileSync(path.join(root, 'many', `f${String(i).padStart(4, '0')}.gguf`), '');
for (let i = 0; i < 300; i++) {
  mkdirSync(path.join(root, 'agents', `a${i}`), { recursive: true });
  writeFileSync(path.join(root, 'agents', `a${i}`, 'Modelfile'), 'FROM llama3.2\n');
}

const LICENSE_A = 'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\n' + 'You may use the Llama Materials. '.repeat(230);
const LICENSE_B = 'Llama 3.2 Acceptable Use Policy\n' + 'Do not use Llama 3.2 to harm. '.repeat(200);
const TEMPLATE = '{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}\n'.repeat(90); // ~8 KB, twice in a show answer (modelfile and template)

let ollama: FakeOllama;
let server: RunningServer;
const get = (p: string, query: Record<string, string> = {}, s = server) => call(s.url, 'GET', p, { key: KEY, query });
const post = (p: string, body: unknown, s = server) => call(s.url, 'POST', p, { key: KEY, body });

beforeAll(async () => {
  ollama = await startFakeOllama();
  const base = ollama.state.models.get(modelKey('llama3.2:latest')!)!;
  for (let i = 0; i < 120; i++) {
    const name = `agent-${String(i).padStart(3, '0')}:latest`;
    addModel(ollama.state, {
      ...base,
      name,
      digest: fakeDigest(name).slice(7),
      modified_at: `2026-10-01T10:${String(i % 60).padStart(2, '0')}:00Z`,
    });
  }
  addModel(ollama.state, {
    ...base,
    name: 'licensed:latest',
    digest: fakeDigest('licensed').slice(7),
    license: [LICENSE_A, LICENSE_B],
    template: TEMPLATE,
  });
  server = await startServer({ API_KEY: KEY, FILES_ROOT: root, OLLAMA_URL: ollama.url, SHELL_ENABLED: 'true' });
});
afterAll(async () => {
  await server?.stop();
  await ollama?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('default answers fit a small context and say how to get the rest', () => {
  it('files_read: a page of 6 KiB, the note names the next offset and the end, and paging reads every byte', async () => {
    const res = await get('/files/read', { path: 'big.log' });
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    expect(res.body).toMatchObject({ offset: 0, length_bytes: 6144, truncated: true, next_offset: 6144 });
    expect(res.body.content).toBe(logText.slice(0, 6144));
    expect(res.body.note).toContain('offset 6144');
    expect(res.body.note).toContain(`offset ${logText.length - 6144}`);
    // Following the note reaches the end, and asking for more still works up to 4 MiB.
    const end = await get('/files/read', { path: 'big.log', offset: String(logText.length - 6144) });
    expect(end.body).toMatchObject({ truncated: false, next_offset: null, content: logText.slice(-6144) });
    expect(end.body.note).toBeUndefined();
    const all = await get('/files/read', { path: 'big.log', max_bytes: String(4 * 1024 * 1024) });
    expect(all.body).toMatchObject({ truncated: false, length_bytes: logText.length });
    expect(all.body.content).toBe(logText);
  });

  it('shell_exec: start and end of each stream, 4 KiB each, and max_output_bytes up to the host limit', async () => {
    const res = await post('/shell/exec', { command: 'seq 1 200000; seq 1 50000 >&2' });
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    expect(res.body.stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(res.body.stdout.endsWith('199999\n200000\n')).toBe(true);
    expect(res.body).toMatchObject({ exit_code: 0, stdout_truncated: true, stderr_truncated: true, stdout_bytes: 1288895 });
    expect(res.body.note).toContain('stdout (1288895 bytes) and stderr');
    expect(res.body.note).toContain('max_output_bytes (at most 65536)');
    const more = await post('/shell/exec', { command: 'seq 1 200000', max_output_bytes: 65536 });
    expect(Buffer.byteLength(more.body.stdout)).toBeGreaterThan(60_000);
    expect(more.body.note).not.toContain('max_output_bytes');
    const small = await post('/shell/exec', { command: 'echo hi' });
    expect(small.body).toMatchObject({ stdout: 'hi\n', stdout_truncated: false });
    expect(small.body.note).toBeUndefined();
    const tooMuch = await post('/shell/exec', { command: 'true', max_output_bytes: 65537 });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('at most 65536') });
  });

  it('files_list: the first entries by name, and max_entries up to 1000', async () => {
    const res = await get('/files/list', { path: 'many' });
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    const n = res.body.entries.length;
    expect(n).toBeGreaterThan(20);
    // The host hands out at most 1000 entries in its own order; those are sorted by name, then cut.
    const names = res.body.entries.map((e: any) => e.name);
    expect(names).toEqual([...names].sort());
    expect(res.body).toMatchObject({ truncated: true, note: expect.stringContaining(`${n} of more than 1000 entries`) });
    const more = await get('/files/list', { path: 'many', max_entries: '1000' });
    expect(more.body.entries).toHaveLength(1000);
    const few = await get('/files/list', { path: 'agents/a1' });
    expect(few.body).toMatchObject({ truncated: false, entries: [{ name: 'Modelfile' }] });
    expect(few.body.note).toBeUndefined();
  });

  it('files_search: cut to the answer size with stopped_reason max_results, and max_results up to 1000', async () => {
    const res = await get('/files/search', { pattern: 'Modelfile' });
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    expect(res.body).toMatchObject({ truncated: true, stopped_reason: 'max_results', note: expect.stringContaining('max_results') });
    const all = await get('/files/search', { pattern: 'Modelfile', max_results: '1000' });
    expect(all.body.matches).toHaveLength(300);
    expect(all.body).toMatchObject({ truncated: false, stopped_reason: null });
  });

  it('ollama_list_models: the most recently modified models, and max_models for all', async () => {
    const res = await get('/ollama/models');
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    const total = ollama.state.models.size;
    expect(res.body.models.length).toBeLessThan(total);
    expect(res.body.note).toContain(`of ${total} models; pass max_models (e.g. ${total})`);
    const all = await get('/ollama/models', { max_models: String(total) });
    expect(all.body.models).toHaveLength(total);
    expect(all.body.note).toBeUndefined();
    expect(all.body.models.slice(0, res.body.models.length)).toEqual(res.body.models);
  });
});

describe('ollama_list_jobs', () => {
  it('lists the newest jobs that fit, and says how to see the others', async () => {
    for (let i = 0; i < 45; i++) {
      const pulled = await post('/ollama/pull', { model: `no-such-model-${i}` });
      expect(pulled.body.state).toBe('failed');
    }
    const res = await get('/ollama/jobs');
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    expect(res.body.jobs.length).toBeLessThan(45);
    expect(res.body.jobs[0].model).toBe('no-such-model-44');
    expect(res.body.note).toMatch(/newest of \d+ jobs; ollama_job_status/);
  });
});

describe('ollama_show_model leaves long texts out, and ollama_create_model puts them back', () => {
  it('shows a model with a 13 KB license within the answer size, then creates the edited model with license and template intact', async () => {
    const res = await get('/ollama/model', { model: 'licensed' });
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThanOrEqual(BUDGET);
    expect(res.body.modelfile).not.toMatch(/^LICENSE /m);
    expect(res.body.modelfile).not.toMatch(/^TEMPLATE /m);
    expect(res.body.modelfile).toContain('# LICENSE of licensed left out here');
    expect(res.body.modelfile).toContain('# TEMPLATE of licensed left out here');
    expect(res.body.template).toBeNull();
    expect(res.body.note).toMatch(/LICENSE \(\d+ bytes\) and TEMPLATE \(\d+ bytes\) left out/);
    expect(res.body.modelfile).toContain('PARAMETER stop');

    // The model edits what it got and sends it back under a new name.
    const edited = res.body.modelfile.replace('PARAMETER stop', 'PARAMETER temperature 0.6\nPARAMETER stop');
    const created = await post('/ollama/create', { model: 'licensed-cool', modelfile: edited });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ state: 'succeeded' });
    const body = ollama.state.requests.filter((r) => r.path === '/api/create').at(-1)!.body as Record<string, unknown>;
    expect(body.license).toEqual([LICENSE_A, LICENSE_B]);
    expect(body.template).toBe(TEMPLATE);
    expect(body.parameters).toMatchObject({ temperature: 0.6 });
    const copy = ollama.state.models.get(modelKey('licensed-cool')!) as FakeModel;
    expect(copy.license).toEqual([LICENSE_A, LICENSE_B]);

    // Asking for a bigger answer gives the whole Modelfile.
    const full = await get('/ollama/model', { model: 'licensed', max_bytes: '200000' });
    expect(full.body.modelfile).toMatch(/^LICENSE "+LLAMA 3\.2 COMMUNITY/m);
    expect(full.body.template).toBe(TEMPLATE);
    expect(full.body.note).toBeUndefined();
  });

  it('keeps a short license in the Modelfile, and a LICENSE the caller writes wins over the marker', async () => {
    const small = await get('/ollama/model', { model: 'llama3.2' });
    expect(small.body.modelfile).toMatch(/^LICENSE /m);
    expect(small.body.note).toBeUndefined();
    const shown = await get('/ollama/model', { model: 'licensed' });
    const own = `${shown.body.modelfile}LICENSE "MIT"\n`;
    const created = await post('/ollama/create', { model: 'licensed-mit', modelfile: own });
    expect(created.body.state).toBe('succeeded');
    const body = ollama.state.requests.filter((r) => r.path === '/api/create').at(-1)!.body as Record<string, unknown>;
    expect(body.license).toBe('MIT');
    expect(body.template).toBe(TEMPLATE); // still put back: the caller wrote no TEMPLATE
  });

  it('fails clearly when the model a marker names is gone', async () => {
    const shown = await get('/ollama/model', { model: 'licensed' });
    const marker = shown.body.modelfile.replaceAll('of licensed left out', 'of no-such-model left out');
    const created = await post('/ollama/create', { model: 'orphan', modelfile: marker });
    expect(created.status).toBe(404);
    expect(created.body).toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('no-such-model') });
  });
});

describe('hostile sizes are refused in the error shape', () => {
  it.each([
    ['/files/list', { path: 'many', max_entries: '0' }],
    ['/files/list', { path: 'many', max_entries: '1001' }],
    ['/files/list', { path: 'many', max_entries: '2.5' }],
    ['/files/list', { path: 'many', max_entries: 'all' }],
    ['/files/search', { pattern: '*', max_results: '-1' }],
    ['/ollama/models', { max_models: '1e9' }],
    ['/ollama/models', { max_models: '0' }],
    ['/ollama/model', { model: 'licensed', max_bytes: String(64 * 1024 * 1024) }],
    ['/ollama/model', { model: 'licensed', max_bytes: '10' }],
    ['/files/read', { path: 'big.log', max_bytes: String(4 * 1024 * 1024 + 1) }],
  ])('GET %s %j', async (route, query) => {
    const res = await get(route, query as Record<string, string>);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.text).not.toMatch(/at \S+\.js:\d+/);
  });
});

describe('the spec a model reads', () => {
  it('with one host: no host input anywhere, no patterns, and a host naming the only host still works', async () => {
    const spec = (await call(server.url, 'GET', '/openapi.json')).body;
    const text = JSON.stringify(spec.paths) + JSON.stringify(spec.components.schemas);
    expect(text).not.toContain('"name":"host"');
    for (const [name, schema] of Object.entries<any>(spec.components.schemas)) {
      if (name.endsWith('Input')) expect(Object.keys(schema.properties ?? {}), name).not.toContain('host');
    }
    expect(text).not.toContain('"pattern":"^');
    const mcp = await connectMcp(server.url, KEY);
    try {
      const { tools } = await mcp.client.listTools();
      for (const t of tools) expect(Object.keys((t.inputSchema.properties as object) ?? {}), t.name).not.toContain('host');
      expect(tools.some((t) => t.outputSchema)).toBe(false);
    } finally {
      await mcp.close();
    }
    expect((await get('/ollama/models', { host: 'local', max_models: '1' })).body.models).toHaveLength(1);
    expect((await post('/shell/exec', { command: 'echo ok', host: 'local' })).body.stdout).toBe('ok\n');
    const other = await get('/ollama/models', { host: 'elsewhere' });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('HOST_NOT_FOUND');
  });

  it('still applies the validation patterns it no longer shows', async () => {
    const bad = await post('/ollama/pull', { model: 'bad name!' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('model');
    const search = await get('/files/search', { pattern: 'a/b' });
    expect(search.status).toBe(400);
  });

  it("with two hosts: host is an enum of their names, in REST and MCP, and answers follow each host's setting", async () => {
    const cfg = path.join(tmp, 'two-hosts.yaml');
    writeFileSync(
      cfg,
      [
        'hosts:',
        '  small:',
        '    transport: local',
        `    files_root: ${root}`,
        `    ollama_url: ${ollama.url}`,
        '  large:',
        '    transport: local',
        `    files_root: ${root}`,
        `    ollama_url: ${ollama.url}`,
        '    results:',
        '      default_max_bytes: 131072',
        '',
      ].join('\n'),
    );
    const two = await startServer({ API_KEY: KEY, CONFIG_FILE: cfg });
    try {
      const spec = (await call(two.url, 'GET', '/openapi.json')).body;
      const readParams = spec.paths['/files/read'].get.parameters;
      expect(readParams.find((p: any) => p.name === 'host').schema).toEqual({ type: 'string', enum: ['small', 'large'] });
      expect(spec.components.schemas.ShellExecInput.properties.host).toMatchObject({ type: 'string', enum: ['small', 'large'] });
      const mcp = await connectMcp(two.url, KEY);
      try {
        const { tools } = await mcp.client.listTools();
        const read = tools.find((t) => t.name === 'files_read')!;
        expect((read.inputSchema.properties as any).host).toMatchObject({ type: 'string', enum: ['small', 'large'] });
      } finally {
        await mcp.close();
      }
      const small = await get('/files/read', { path: 'big.log', host: 'small' }, two);
      const large = await get('/files/read', { path: 'big.log', host: 'large' }, two);
      expect(small.body.length_bytes).toBe(6144);
      expect(large.body.length_bytes).toBe(65536);
      // Entry sizes depend on the temp directory's path, so compare the two hosts rather than a count.
      const smallList = await get('/files/list', { path: 'many', host: 'small' }, two);
      const list = await get('/files/list', { path: 'many', host: 'large' }, two);
      expect(smallList.body.note).toBeTruthy();
      expect(list.body.entries.length).toBeGreaterThan(smallList.body.entries.length * 8);
    } finally {
      await two.stop();
    }
  });
});
