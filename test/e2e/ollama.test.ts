import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, startServer, type RunningServer, expectError } from '../support/server.js';
import { startFakeOllama, modelKey, REQUIREMENTS_AGENT_SYSTEM, type FakeOllama } from '../support/fake-ollama.js';
import { connectMcp, resultJson } from '../support/mcp-client.js';
import { until, waitFor } from '../support/waiting.js';

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';

const JOB_FIELDS = [
  'job_id',
  'kind',
  'host',
  'model',
  'state',
  'status',
  'completed_bytes',
  'total_bytes',
  'percent',
  'error',
  'started_at',
  'finished_at',
];

/** A job answer: 200, exactly the job fields, and the given values. */
function expectJobAnswer(res: { status: number; body: any }, values: Record<string, unknown>): void {
  expect(res.status).toBe(200);
  expect(Object.keys(res.body).sort()).toEqual([...JOB_FIELDS].sort());
  expect(res.body).toMatchObject(values);
}

describe('ollama tools over REST against a fake Ollama', () => {
  let fake: FakeOllama;
  let server: RunningServer;
  const post = (path: string, body: unknown, key = FULL) => call(server.url, 'POST', path, { key, body });
  const get = (path: string, query?: Record<string, string>, key = READ) => call(server.url, 'GET', path, { key, query });
  const pullRequests = (model: string) =>
    fake.state.requests.filter((r) => r.path === '/api/pull' && (r.body as { model?: string })?.model === model);

  beforeAll(async () => {
    fake = await startFakeOllama();
    server = await startServer({ OLLAMA_URL: fake.url, API_KEY: FULL, READONLY_API_KEY: READ });
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.stop();
  });
  afterEach(() => {
    fake.state.pullDelayMs = 0;
    fake.state.pullChunksPerLayer = 4;
    fake.state.hang = false;
    fake.state.midStreamError.clear();
  });

  it('ollama_version reports the version and the URL', async () => {
    const res = await get('/ollama/version');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ host: 'local', version: '0.12.6', url: fake.url });
  });

  it('ollama_list_models lists the installed models with sizes in bytes and GB', async () => {
    const res = await get('/ollama/models');
    expect(res.status).toBe(200);
    expect(res.body.host).toBe('local');
    const agent = res.body.models.find((m: any) => m.name === 'requirements-agent:latest');
    expect(agent).toMatchObject({ family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M', format: 'gguf' });
    expect(agent.size_gb).toBe(Math.round((agent.size_bytes / 1e9) * 100) / 100);
    expect(agent.capabilities).toEqual(['completion', 'tools']);
    expect(agent.digest).toMatch(/^[0-9a-f]{64}$/);
    const llama = res.body.models.find((m: any) => m.name === 'llama3.2:latest');
    expect(llama).toMatchObject({ size_bytes: 2019393189, size_gb: 2.02 });
  });

  it('ollama_show_model returns the Modelfile and typed parameters', async () => {
    const res = await get('/ollama/model', { model: 'requirements-agent' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ host: 'local', model: 'requirements-agent', system: REQUIREMENTS_AGENT_SYSTEM });
    expect(res.body.parameters).toEqual({
      stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|reserved_special_token'],
      temperature: 0.7,
    });
    expect(res.body.modelfile).toContain('PARAMETER temperature 0.7');
    expect(res.body.template).toContain('<|start_header_id|>');
    expect(res.body.details).toMatchObject({ family: 'llama', quantization_level: 'Q4_K_M' });
    expect(res.body.capabilities).toEqual(['completion', 'tools']);
    expect(res.body.model_info['general.architecture']).toBe('llama');
  });

  it('ollama_show_model answers 404 MODEL_NOT_FOUND for a model that is not installed', async () => {
    const res = await get('/ollama/model', { model: 'not-here:1b' });
    expectError(res, 404, 'MODEL_NOT_FOUND');
    expect(res.body.message).toContain("model 'not-here:1b' not found");
  });

  it('the seed scenario: show the Modelfile, set temperature 0.6, create again, show again', async () => {
    const before = await get('/ollama/model', { model: 'requirements-agent' });
    const edited = (before.body.modelfile as string).replace('PARAMETER temperature 0.7', 'PARAMETER temperature 0.6');
    expect(edited).not.toBe(before.body.modelfile);

    const created = await post('/ollama/create', { model: 'requirements-agent', modelfile: edited, wait_seconds: 30 });
    expectJobAnswer(created, {
      kind: 'create',
      host: 'local',
      model: 'requirements-agent',
      state: 'succeeded',
      status: 'success',
      error: null,
    });

    // Ollama >= 0.5.5 wants the structured body: the blob FROM line became `files`, no `modelfile` field.
    const sent = fake.state.requests.filter((r) => r.path === '/api/create').at(-1)?.body as Record<string, any>;
    expect(sent.modelfile).toBeUndefined();
    expect(Object.values(sent.files)).toHaveLength(1);
    expect(sent.parameters.temperature).toBe(0.6);
    expect(sent.system).toBe(REQUIREMENTS_AGENT_SYSTEM);

    const after = await get('/ollama/model', { model: 'requirements-agent' });
    expect(after.body.parameters.temperature).toBe(0.6);
    expect(after.body.parameters.stop).toEqual(before.body.parameters.stop);
    expect(after.body.system).toBe(REQUIREMENTS_AGENT_SYSTEM);
    expect(after.body.modelfile).toContain('PARAMETER temperature 0.6');
  });

  it('creates a model from a Modelfile with a multi-line SYSTEM', async () => {
    const system = 'You review pull requests.\nBe brief.\nQuote the line you mean, like "this".';
    const modelfile = `FROM llama3.2\nPARAMETER num_ctx 8192\nSYSTEM """${system}"""\nMESSAGE user Hi\nMESSAGE assistant Hello, send me a diff.\n`;
    const res = await post('/ollama/create', { model: 'reviewer:v1', modelfile });
    expect(res.body).toMatchObject({ state: 'succeeded', kind: 'create', model: 'reviewer:v1' });
    const shown = await get('/ollama/model', { model: 'reviewer:v1' });
    expect(shown.body.system).toBe(system);
    expect(shown.body.parameters).toMatchObject({ num_ctx: 8192 });
    expect(shown.body.messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello, send me a diff.' },
    ]);
  });

  it('creates a model from structured fields', async () => {
    const res = await post('/ollama/create', {
      model: 'terse',
      from: 'llama3.2',
      system: 'Answer in one sentence.',
      parameters: { temperature: 0.2, stop: '<|eot_id|>' },
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });
    expect(res.body).toMatchObject({ state: 'succeeded' });
    const shown = await get('/ollama/model', { model: 'terse' });
    expect(shown.body).toMatchObject({ system: 'Answer in one sentence.', parameters: { temperature: 0.2, stop: ['<|eot_id|>'] } });
  });

  it('refuses modelfile with structured fields, and structured fields without from', async () => {
    const both = await post('/ollama/create', { model: 'x', modelfile: 'FROM llama3.2', system: 'hi' });
    expectError(both, 400, 'VALIDATION_FAILED');
    expect(both.body.message).toContain('either modelfile or the structured fields');
    const noFrom = await post('/ollama/create', { model: 'x', system: 'hi' });
    expectError(noFrom, 400, 'VALIDATION_FAILED');
    expect(noFrom.body.message).toContain('from: required');
    const badLine = await post('/ollama/create', { model: 'x', modelfile: 'FROM llama3.2\nPARAMETER temperature warm\n' });
    expectError(badLine, 400, 'VALIDATION_FAILED');
    expect(badLine.body.message).toContain('Modelfile line 2');
    const badParam = await post('/ollama/create', { model: 'x', from: 'llama3.2', parameters: { temprature: 1 } });
    expectError(badParam, 400, 'VALIDATION_FAILED');
    expect(badParam.body.message).toContain("parameters: has an unknown parameter 'temprature'");
  });

  it('ollama_running_models, then ollama_unload_model frees it', async () => {
    const running = await get('/ollama/running');
    expect(running.status).toBe(200);
    const llama = running.body.models.find((m: any) => m.name === 'llama3.2:latest');
    expect(llama).toMatchObject({ size_bytes: 3321450496, size_vram_bytes: 3321450496, gpu_percent: 100, context_length: 4096 });
    expect(Date.parse(llama.expires_at)).toBeGreaterThan(Date.now());

    const unloaded = await post('/ollama/unload', { model: 'llama3.2' });
    expect(unloaded.status).toBe(200);
    expect(unloaded.body).toEqual({ host: 'local', model: 'llama3.2' });
    const sent = fake.state.requests.filter((r) => r.path === '/api/generate').at(-1)?.body;
    expect(sent).toMatchObject({ model: 'llama3.2', keep_alive: 0 });
    const after = await get('/ollama/running');
    expect(after.body.models.map((m: any) => m.name)).not.toContain('llama3.2:latest');

    expectError(await post('/ollama/unload', { model: 'ghost' }), 404, 'MODEL_NOT_FOUND');
  });

  it('ollama_copy_model and ollama_delete_model', async () => {
    const copied = await post('/ollama/copy', { source: 'llama3.2', destination: 'llama3.2-backup' });
    expect(copied.status).toBe(200);
    expect(copied.body).toEqual({ host: 'local', source: 'llama3.2', destination: 'llama3.2-backup' });
    let names = (await get('/ollama/models')).body.models.map((m: any) => m.name);
    expect(names).toContain('llama3.2-backup:latest');

    const missing = await post('/ollama/copy', { source: 'ghost', destination: 'ghost2' });
    expectError(missing, 404, 'MODEL_NOT_FOUND');
    expect(missing.body.message).toContain('model "ghost" not found');

    const deleted = await post('/ollama/delete', { model: 'llama3.2-backup' });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ host: 'local', model: 'llama3.2-backup' });
    expect(fake.state.requests.filter((r) => r.path === '/api/delete').at(-1)).toMatchObject({ method: 'DELETE' });
    names = (await get('/ollama/models')).body.models.map((m: any) => m.name);
    expect(names).not.toContain('llama3.2-backup:latest');
    expectError(await post('/ollama/delete', { model: 'llama3.2-backup' }), 404, 'MODEL_NOT_FOUND');
  });

  it('pulls a model as a job that ends succeeded, findable by id and in the job list', async () => {
    const res = await post('/ollama/pull', { model: 'gemma:2b', wait_seconds: 30 });
    expectJobAnswer(res, {
      kind: 'pull',
      host: 'local',
      model: 'gemma:2b',
      state: 'succeeded',
      status: 'success',
      percent: 100,
      error: null,
    });
    // Layers of the registry's gemma:2b: 1678447520 + 8433 + 136 + 84 + 483.
    expect(res.body.total_bytes).toBe(1678456656);
    expect(res.body.completed_bytes).toBe(1678456656);
    expect(res.body.finished_at).not.toBeNull();

    const status = await get(`/ollama/jobs/${res.body.job_id}`);
    expect(status.body).toEqual(res.body);
    const withHost = await get(`/ollama/jobs/${res.body.job_id}`, { host: 'local', wait_seconds: '5' });
    expect(withHost.body).toEqual(res.body);
    const jobs = await get('/ollama/jobs');
    expect(jobs.body.jobs.find((j: any) => j.job_id === res.body.job_id)).toEqual(res.body);
    const models = (await get('/ollama/models')).body.models.map((m: any) => m.name);
    expect(models).toContain('gemma:2b');
  });

  it("a pull of a model that does not exist ends failed with Ollama's words", async () => {
    const res = await post('/ollama/pull', { model: 'no-such-model:7b' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'failed', model: 'no-such-model:7b', status: 'pulling manifest' });
    expect(res.body.error).toContain('pull model manifest: file does not exist');
    expect(res.body.finished_at).not.toBeNull();
  });

  it('an error in the middle of the stream ends the job failed with that error', async () => {
    fake.state.midStreamError.set(
      modelKey('tinyllama') as string,
      'digest mismatch, file must be downloaded again: want sha256:aa, got sha256:bb',
    );
    const res = await post('/ollama/pull', { model: 'tinyllama' });
    expect(res.body.state).toBe('failed');
    expect(res.body.error).toContain('digest mismatch, file must be downloaded again');
    expect(res.body.completed_bytes).toBeGreaterThan(0);
    expect(res.body.percent).toBeGreaterThan(0);
  });

  it('cancel during a pull closes the stream: the job is cancelled and Ollama sees the client go', async () => {
    fake.state.pullDelayMs = 40;
    fake.state.pullChunksPerLayer = 500;
    const started = await post('/ollama/pull', { model: 'qwen2.5:0.5b', wait_seconds: 0 });
    expect(started.body).toMatchObject({ state: 'running', kind: 'pull' });
    const id = started.body.job_id;
    const moving = await until(
      'the pull to make progress',
      async () => {
        const s = await get(`/ollama/jobs/${id}`);
        return s.body.completed_bytes > 0 ? s.body : undefined;
      },
      10_000,
      25,
    );
    expect(moving.status).toMatch(/^pulling [0-9a-f]{12}$/);
    expect(moving.percent).toBeGreaterThan(0);
    expect(moving.percent).toBeLessThan(100);

    // Open WebUI sends `{}` as the body of a POST that declares none.
    const cancelled = await call(server.url, 'POST', `/ollama/jobs/${id}/cancel`, { key: FULL, body: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ job_id: id, state: 'cancelled', error: null });
    expect(cancelled.body.finished_at).not.toBeNull();
    await waitFor(
      'the fake to see the cancel',
      () => fake.state.cancelled.some((c) => c.kind === 'pull' && c.model === 'qwen2.5:0.5b'),
      10_000,
    );
    expect((await get(`/ollama/jobs/${id}`)).body.state).toBe('cancelled');

    // And without any body at all.
    const again = await call(server.url, 'POST', `/ollama/jobs/${id}/cancel`, { key: FULL });
    expect(again.body).toMatchObject({ state: 'cancelled' });
  });

  it('two concurrent pulls of one model share one job and one Ollama stream', async () => {
    fake.state.pullDelayMs = 20;
    fake.state.pullChunksPerLayer = 200;
    const before = pullRequests('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M').length;
    const [a, b] = await Promise.all([
      post('/ollama/pull', { model: 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', wait_seconds: 1 }),
      post('/ollama/pull', { model: 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', wait_seconds: 1 }),
    ]);
    expect(a.body.state).toBe('running');
    expect(b.body.job_id).toBe(a.body.job_id);
    expect(pullRequests('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M').length).toBe(before + 1);
    const listed = (await get('/ollama/jobs')).body.jobs.filter((j: any) => j.job_id === a.body.job_id);
    expect(listed).toHaveLength(1);
    await post(`/ollama/jobs/${a.body.job_id}/cancel`, {});
  });

  it('refuses the read-only key on write routes with 403 FORBIDDEN, and no key with 401', async () => {
    expectError(await post('/ollama/pull', { model: 'gemma:2b' }, READ), 403, 'FORBIDDEN');
    expectError(await post('/ollama/delete', { model: 'gemma:2b' }, READ), 403, 'FORBIDDEN');
    expectError(await post(`/ollama/jobs/${randomUUID()}/cancel`, {}, READ), 403, 'FORBIDDEN');
    expectError(await call(server.url, 'GET', '/ollama/models'), 401, 'UNAUTHORIZED');
    // The model is still there.
    expect((await get('/ollama/models')).body.models.map((m: any) => m.name)).toContain('gemma:2b');
  });

  it('validates input: model names, wait_seconds, job ids, unknown fields', async () => {
    const badName = await post('/ollama/pull', { model: 'Bad Name!' });
    expectError(badName, 400, 'VALIDATION_FAILED');
    expect(badName.body.message).toContain('model: must be an Ollama model name');
    const traversal = await get('/ollama/model', { model: '../../etc/passwd' });
    expectError(traversal, 400, 'VALIDATION_FAILED');
    expectError(await post('/ollama/copy', { source: 'llama3.2', destination: 'a b' }), 400, 'VALIDATION_FAILED');
    const tooLong = await post('/ollama/pull', { model: 'gemma:2b', wait_seconds: 241 });
    expectError(tooLong, 400, 'VALIDATION_FAILED');
    expect(tooLong.body.message).toContain('wait_seconds');
    expectError(await post('/ollama/pull', { model: 'gemma:2b', wait_seconds: -1 }), 400, 'VALIDATION_FAILED');
    expectError(await post('/ollama/pull', { model: 'gemma:2b', wait_seconds: 'soon' }), 400, 'VALIDATION_FAILED');
    expectError(await get(`/ollama/jobs/${randomUUID()}`, { wait_seconds: '999' }), 400, 'VALIDATION_FAILED');
    const unknownField = await post('/ollama/pull', { model: 'gemma:2b', insecure: true });
    expectError(unknownField, 400, 'VALIDATION_FAILED');
    expect(unknownField.body.message).toContain('insecure: unknown field');
    expectError(await get('/ollama/jobs/not-a-job'), 400, 'VALIDATION_FAILED');
    // No request reached Ollama for any of these.
    expect(fake.state.requests.some((r) => JSON.stringify(r.body ?? '').includes('Bad Name!'))).toBe(false);
  });

  it('answers 404 JOB_NOT_FOUND for an unknown job, saying how long jobs are kept', async () => {
    const res = await get(`/ollama/jobs/${randomUUID()}`);
    expectError(res, 404, 'JOB_NOT_FOUND');
    expect(res.body.message).toContain('kept for 60 minutes');
    expectError(await post(`/ollama/jobs/${randomUUID()}/cancel`, {}), 404, 'JOB_NOT_FOUND');
    const job = (await get('/ollama/jobs')).body.jobs[0];
    expectError(await get(`/ollama/jobs/${job.job_id}`, { host: 'elsewhere' }), 404, 'HOST_NOT_FOUND');
  });

  it('reports pull progress over MCP and serves the job tools there too', async () => {
    fake.state.pullDelayMs = 20;
    fake.state.pullChunksPerLayer = 100;
    const mcp = await connectMcp(server.url, FULL);
    try {
      const progress: Array<{ progress: number; total?: number; message?: string }> = [];
      const result = await mcp.client.callTool(
        { name: 'ollama_pull_model', arguments: { model: 'llama3.2', wait_seconds: 60 } },
        undefined,
        {
          onprogress: (p) => progress.push(p),
        },
      );
      const job = resultJson(result);
      expect(job).toMatchObject({ state: 'succeeded', kind: 'pull', model: 'llama3.2' });
      // llama3.2 is installed, so every layer is a cache hit and the pull is quick; the re-pull still streams.
      expect(progress.length).toBeGreaterThanOrEqual(1);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);

      const slow = await mcp.client.callTool(
        { name: 'ollama_pull_model', arguments: { model: 'qwen2.5:0.5b', wait_seconds: 3 } },
        undefined,
        { onprogress: (p) => progress.push(p) },
      );
      const running = resultJson(slow);
      expect(running.state).toBe('running');
      const slowReports = progress.filter((p) => /^pulling [0-9a-f]{12}$/.test(p.message ?? '') && p.total);
      expect(slowReports.length).toBeGreaterThanOrEqual(2);

      const status = resultJson(await mcp.client.callTool({ name: 'ollama_job_status', arguments: { job_id: running.job_id } }));
      expect(status.job_id).toBe(running.job_id);
      const cancelled = resultJson(await mcp.client.callTool({ name: 'ollama_cancel_job', arguments: { job_id: running.job_id } }));
      expect(cancelled.state).toBe('cancelled');

      const unknown = await mcp.client.callTool({ name: 'ollama_job_status', arguments: { job_id: randomUUID() } });
      expect(unknown.isError).toBe(true);
      expect(resultJson(unknown)).toMatchObject({ code: 'JOB_NOT_FOUND' });
    } finally {
      await mcp.close();
    }
  });

  it('lists the ollama tools over MCP with their annotations, and only the read ones to the read-only key', async () => {
    const full = await connectMcp(server.url, FULL);
    const read = await connectMcp(server.url, READ);
    try {
      const tools = new Map((await full.client.listTools()).tools.map((t) => [t.name, t]));
      // Read-only tools carry no destructive/idempotent hints: MCP gives them meaning only for writes.
      expect(tools.get('ollama_list_models')?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
      expect(tools.get('ollama_pull_model')?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
      });
      for (const name of ['ollama_delete_model', 'ollama_create_model', 'ollama_copy_model']) {
        expect(tools.get(name)?.annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      }
      expect(Object.keys(tools.get('ollama_cancel_job')?.inputSchema.properties ?? {}).sort()).toEqual(['job_id']); // one host: no host input
      expect(tools.get('ollama_create_model')?.inputSchema.properties?.parameters).toMatchObject({
        type: 'object',
        description: expect.stringContaining('temperature'),
      });
      const readNames = (await read.client.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('ollama_'));
      expect(readNames.sort()).toEqual([
        'ollama_job_status',
        'ollama_list_jobs',
        'ollama_list_models',
        'ollama_model_fit',
        'ollama_running_models',
        'ollama_show_model',
        'ollama_version',
      ]);
    } finally {
      await full.close();
      await read.close();
    }
  });

  it('answers 502 OLLAMA_UNREACHABLE naming the URL while Ollama is down, and recovers without a restart', async () => {
    await fake.setDown();
    try {
      const res = await get('/ollama/version');
      expectError(res, 502, 'OLLAMA_UNREACHABLE');
      expect(res.body.message).toContain(fake.url);
      const pull = await post('/ollama/pull', { model: 'gemma:2b' });
      expect(pull.body.state).toBe('failed');
      expect(pull.body.error).toContain(fake.url);
    } finally {
      await fake.setUp();
    }
    expect((await get('/ollama/version')).status).toBe(200);
  });

  it('answers 504 OLLAMA_TIMEOUT when Ollama accepts the connection and then hangs', { timeout: 60_000 }, async () => {
    fake.state.hang = true;
    const started = Date.now();
    const res = await get('/ollama/models');
    const elapsed = Date.now() - started;
    expectError(res, 504, 'OLLAMA_TIMEOUT');
    expect(res.body.message).toContain(fake.url);
    expect(res.body.message).toContain('did not answer');
    // The client's bound for a non-streaming call is 30 s.
    expect(elapsed).toBeLessThan(40_000);
    fake.state.hang = false;
    expect((await get('/ollama/version')).status).toBe(200);
  });
});
