/**
 * Proves the fake Ollama speaks the real protocol: the official `ollama` npm client drives it exactly as it
 * drives a real server, and raw HTTP checks pin what a real Ollama answers (status codes, empty bodies,
 * NDJSON, error texts; captured answers are in test/fixtures/ollama).
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ollama } from 'ollama';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/ollama/${name}`, import.meta.url), 'utf8');

let fake: FakeOllama;
let ollama: Ollama;

beforeEach(async () => {
  fake = await startFakeOllama();
  ollama = new Ollama({ host: fake.url });
});
afterEach(async () => {
  await fake.stop();
});

/** ollama-js throws ResponseError (not exported from the package root) with `error` and `status_code`. */
async function responseError(p: Promise<unknown>): Promise<{ name: string; error: string; status_code: number }> {
  try {
    await p;
  } catch (err) {
    return err as { name: string; error: string; status_code: number };
  }
  throw new Error('expected the call to fail');
}

async function post(path: string, body: string | undefined, method = 'POST'): Promise<Response> {
  return fetch(fake.url + path, { method, body, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } });
}

describe('fake Ollama driven by the official ollama-js client', () => {
  it('version', async () => {
    expect(await ollama.version()).toEqual({ version: '0.12.6' });
  });

  it('list: fixture entries verbatim, name == model, newest first, families null where real servers send null', async () => {
    const { models } = await ollama.list();
    const docs = JSON.parse(fixture('tags_docs_example.json')) as { models: Record<string, unknown>[] };
    const real2026 = JSON.parse(fixture('tags_real_entries_2026_cloud_and_safetensors.json')) as { models: Record<string, unknown>[] };
    const byName = new Map(models.map((m) => [m.name, m as unknown as Record<string, unknown>]));
    for (const expected of [...docs.models, ...real2026.models]) {
      expect(byName.get(expected.name as string)).toMatchObject(expected);
    }
    for (const m of models) expect(m.model).toBe(m.name);
    const times = models.map((m) => new Date(m.modified_at).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect((byName.get('codellama:latest') as { details: { families: unknown } }).details.families).toBeNull();
    expect(models.map((m) => m.name)).toContain('requirements-agent:latest');
    expect(byName.get('llama3.2:latest')?.size).toBe(2019393189);
  });

  it('show: template, Go-formatted parameters text and a Modelfile with a blob FROM', async () => {
    const show = await ollama.show({ model: 'llama3.2' });
    expect(show.template).toContain('<|start_header_id|>assistant<|end_header_id|>');
    expect(show.parameters.split('\n')).toEqual([
      'stop                           "<|start_header_id|>"',
      'stop                           "<|end_header_id|>"',
      'stop                           "<|eot_id|>"',
      'stop                           "<|reserved_special_token"',
    ]);
    expect(show.modelfile).toContain('# FROM llama3.2:latest\n');
    expect(show.modelfile).toContain(
      'FROM /usr/share/ollama/.ollama/models/blobs/sha256-dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff\n',
    );
    expect(show.details.family).toBe('llama');
    expect(show.capabilities).toEqual(['completion', 'tools']);
  });

  it('show: the scenario model has a multi-line SYSTEM (printed in """ because it contains a quote) and temperature 0.7', async () => {
    const show = await ollama.show({ model: 'requirements-agent' });
    expect(show.system.split('\n')).toHaveLength(3);
    expect(show.parameters).toContain('temperature                    0.7');
    expect(show.modelfile).toContain(`SYSTEM """${show.system}"""\n`);
    expect(show.modelfile).toContain('PARAMETER temperature 0.7\n');
  });

  it('show: unknown model → ResponseError 404 with single quotes', async () => {
    const err = await responseError(ollama.show({ model: 'nope' }));
    expect(err.name).toBe('ResponseError');
    expect(err.status_code).toBe(404);
    expect(err.error).toBe("model 'nope' not found");
  });

  it('ps: loaded models with size_vram, expires_at and context_length', async () => {
    const { models } = await ollama.ps();
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: 'llama3.2:latest', model: 'llama3.2:latest', size_vram: 3321450496, size: 3321450496 });
    expect((models[0] as unknown as { context_length: number }).context_length).toBe(4096);
    expect(new Date(models[0]!.expires_at).getTime()).toBeGreaterThan(Date.now());
  });

  it('pull with stream: manifest, per-layer progress (completed omitted at 0), verify, manifest, success; then listed', async () => {
    const lines: Record<string, unknown>[] = [];
    for await (const p of await ollama.pull({ model: 'gemma:2b', stream: true })) lines.push(p as unknown as Record<string, unknown>);

    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.slice(-3)).toEqual([{ status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' }]);
    const progress = lines.filter((l) => String(l.status).startsWith('pulling ') && l.digest);
    const digests = [...new Set(progress.map((l) => l.digest))];
    expect(digests).toHaveLength(5);
    for (const l of progress) {
      expect(l.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(l.status).toBe(`pulling ${String(l.digest).slice(7, 19)}`);
      expect(Object.keys(l).every((k) => ['status', 'digest', 'total', 'completed'].includes(k))).toBe(true);
    }
    // Same line shapes as the maintainer-posted real stream: the first line of a layer has no `completed`.
    const real = fixture('pull_stream_real_issue4417_excerpt.ndjson')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(real[3]).not.toHaveProperty('completed');
    for (const d of digests) {
      const first = progress.find((l) => l.digest === d) as Record<string, unknown>;
      expect(first).not.toHaveProperty('completed');
      const last = progress.filter((l) => l.digest === d).at(-1) as Record<string, unknown>;
      expect(last.completed).toBe(last.total);
    }
    expect(progress.find((l) => String(l.digest).startsWith('sha256:c1864a5eb193'))?.total).toBe(1678447520);

    const { models } = await ollama.list();
    expect(models.find((m) => m.name === 'gemma:2b')?.size).toBe(1678456656);
  });

  it('pull of an up-to-date model: every layer is a cache hit at 100%', async () => {
    const lines: Record<string, unknown>[] = [];
    for await (const p of await ollama.pull({ model: 'llama3.2', stream: true })) lines.push(p as unknown as Record<string, unknown>);
    const layerLines = lines.filter((l) => l.digest);
    expect(layerLines).toHaveLength(6);
    for (const l of layerLines) expect(l.completed).toBe(l.total);
    expect(lines.at(-1)).toEqual({ status: 'success' });
  });

  it('pull with stream:false → single {"status":"success"}', async () => {
    expect(await ollama.pull({ model: 'tinyllama', stream: false })).toEqual({ status: 'success' });
  });

  it("pull of a model the registry does not have: streaming throws Ollama's text; stream:false is a 500", async () => {
    const seen: unknown[] = [];
    let thrown: Error | undefined;
    try {
      for await (const p of await ollama.pull({ model: 'no-such-model:7b', stream: true })) seen.push(p);
    } catch (err) {
      thrown = err as Error;
    }
    expect(seen).toEqual([{ status: 'pulling manifest' }]);
    expect(thrown?.message).toBe('pull model manifest: file does not exist');

    const err = await responseError(ollama.pull({ model: 'no-such-model:7b', stream: false }));
    expect(err.status_code).toBe(500);
    expect(err.error).toBe('pull model manifest: file does not exist');
  });

  it("copy, then delete; missing models give 404 with Ollama's quoting (double for copy, single for delete)", async () => {
    expect(await ollama.copy({ source: 'llama3.2', destination: 'llama3-backup' })).toEqual({ status: 'success' });
    let names = (await ollama.list()).models.map((m) => m.name);
    expect(names).toContain('llama3-backup:latest');

    expect(await ollama.delete({ model: 'llama3-backup' })).toEqual({ status: 'success' });
    names = (await ollama.list()).models.map((m) => m.name);
    expect(names).not.toContain('llama3-backup:latest');

    const copyErr = await responseError(ollama.copy({ source: 'nope', destination: 'x' }));
    expect(copyErr.status_code).toBe(404);
    expect(copyErr.error).toBe('model "nope" not found');

    const delErr = await responseError(ollama.delete({ model: 'llama3-backup' }));
    expect(delErr.status_code).toBe(404);
    expect(delErr.error).toBe("model 'llama3-backup' not found");
  });

  it('create from + system + parameters (structured body), streamed, then show reflects it', async () => {
    const statuses: string[] = [];
    const stream = await ollama.create({
      model: 'mario',
      from: 'llama3.2',
      system: 'You are Mario from Super Mario Bros.',
      parameters: { temperature: 1, num_ctx: 4096 },
      stream: true,
    });
    for await (const p of stream) statuses.push(p.status);
    expect(statuses[0]).toBe('reading model metadata');
    expect(statuses).toContain('creating system layer');
    expect(statuses.some((s) => /^using existing layer sha256:[0-9a-f]{64}$/.test(s))).toBe(true);
    expect(statuses.slice(-2)).toEqual(['writing manifest', 'success']);

    const show = await ollama.show({ model: 'mario' });
    expect(show.system).toBe('You are Mario from Super Mario Bros.');
    expect(show.parameters).toContain('temperature                    1');
    expect(show.parameters).toContain('num_ctx                        4096');
    expect(show.parameters).toContain('stop                           "<|eot_id|>"');
    expect(show.template).toContain('<|start_header_id|>');
    expect(show.modelfile).toContain('SYSTEM You are Mario from Super Mario Bros.\n');
  });

  it('create with stream:false returns the last status; from a missing base it pulls the base in the same stream', async () => {
    expect(await ollama.create({ model: 'g2', from: 'gemma:2b', stream: false })).toEqual({ status: 'success' });
    const names = (await ollama.list()).models.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['gemma:2b', 'g2:latest']));

    let thrown: Error | undefined;
    try {
      for await (const p of await ollama.create({ model: 'x', from: 'missing-base', stream: true })) void p;
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toBe('pull model manifest: file does not exist');
  });

  it('generate with keep_alive 0 unloads: a single JSON with done_reason "unload"', async () => {
    const res = await ollama.generate({ model: 'llama3.2', prompt: '', keep_alive: 0 });
    const docs = JSON.parse(fixture('generate_unload_docs_example.json')) as Record<string, unknown>;
    expect(Object.keys(res).sort()).toEqual(Object.keys(docs).sort());
    expect(res).toMatchObject({ model: 'llama3.2', response: '', done: true, done_reason: 'unload' });
    expect(String(res.created_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect((await ollama.ps()).models).toEqual([]);

    const err = await responseError(ollama.generate({ model: 'ghost', prompt: '', keep_alive: 0 }));
    expect(err.status_code).toBe(404);
    expect(err.error).toBe("model 'ghost' not found");
  });

  it('aborting a streamed pull closes the connection: the fake records the cancel and the next pull resumes', async () => {
    fake.state.pullDelayMs = 15;
    fake.state.pullChunksPerLayer = 50;
    const stream = await ollama.pull({ model: 'gemma:2b', stream: true });
    let count = 0;
    let resumedFrom = 0;
    try {
      for await (const _line of stream) {
        count++;
        if (count === 5) stream.abort();
      }
    } catch (err) {
      expect((err as Error).name).toBe('AbortError');
    }
    await expect.poll(() => fake.state.cancelled.length, { timeout: 5000 }).toBe(1);
    expect(fake.state.cancelled[0]).toMatchObject({ kind: 'pull', model: 'gemma:2b' });
    expect((await ollama.list()).models.map((m) => m.name)).not.toContain('gemma:2b');

    fake.state.pullDelayMs = 0;
    for await (const p of await ollama.pull({ model: 'gemma:2b', stream: true })) {
      if (p.digest?.startsWith('sha256:c1864a5eb193') && resumedFrom === 0) resumedFrom = p.completed ?? -1;
    }
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThan(1678447520);
  });
});

describe('fake Ollama: raw HTTP facts of a real Ollama', () => {
  it('GET and HEAD / → 200 "Ollama is running"', async () => {
    const get = await fetch(fake.url + '/');
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await get.text()).toBe('Ollama is running');
    const head = await fetch(fake.url + '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('unknown path → 404 text; known path with the wrong method → 405 (POST /api/delete, GET /api/pull)', async () => {
    const unknown = await fetch(fake.url + '/api/nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('404 page not found');
    const delPost = await post('/api/delete', '{"model":"llama3.2"}');
    expect(delPost.status).toBe(405);
    expect((await fetch(fake.url + '/api/pull')).status).toBe(405);
    expect((await ollama.list()).models.map((m) => m.name)).toContain('llama3.2:latest');
  });

  it.each(['/api/pull', '/api/show', '/api/copy', '/api/create', '/api/generate'])(
    'empty body on %s → 400 missing request body',
    async (path) => {
      const res = await post(path, undefined);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual({ error: 'missing request body' });
    },
  );

  it('empty body on DELETE /api/delete → 400 missing request body', async () => {
    const res = await post('/api/delete', undefined, 'DELETE');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'missing request body' });
  });

  it('malformed and mistyped JSON → 400 with Go decoder text', async () => {
    let res = await post('/api/pull', 'xyz');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid character 'x' looking for beginning of value" });
    res = await post('/api/pull', '{"model":');
    expect(await res.json()).toEqual({ error: 'unexpected EOF' });
    res = await post('/api/pull', '{"model": 5}');
    expect(await res.json()).toEqual({ error: 'json: cannot unmarshal number into Go struct field PullRequest.model of type string' });
  });

  it('invalid names: pull/show → "invalid model name", delete → name "…" is invalid, copy → source "…" is invalid', async () => {
    for (const path of ['/api/pull', '/api/show']) {
      const res = await post(path, JSON.stringify({ model: 'Bad Name!' }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid model name' });
    }
    const del = await post('/api/delete', JSON.stringify({ model: 'Bad Name!' }), 'DELETE');
    expect(await del.json()).toEqual({ error: 'name "Bad Name!" is invalid' });
    const copy = await post('/api/copy', JSON.stringify({ source: 'Bad Name!', destination: 'x' }));
    expect(await copy.json()).toEqual({ error: 'source "Bad Name!" is invalid' });
    const show = await post('/api/show', '{}');
    expect(await show.json()).toEqual({ error: 'model is required' });
  });

  it('copy and delete answer 200 with an empty body', async () => {
    const copy = await post('/api/copy', JSON.stringify({ source: 'llama3.2', destination: 'b' }));
    expect(copy.status).toBe(200);
    expect(copy.headers.get('content-length')).toBe('0');
    expect(await copy.text()).toBe('');
    const del = await post('/api/delete', JSON.stringify({ model: 'b' }), 'DELETE');
    expect(del.status).toBe(200);
    expect(await del.text()).toBe('');
  });

  it('create with only the pre-0.5.5 `modelfile` field → 400 neither from nor files', async () => {
    const res = await post('/api/create', JSON.stringify({ model: 'mario', modelfile: 'FROM llama3\nSYSTEM You are mario.' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "neither 'from' or 'files' was specified" });
  });

  it('pull of a nonexistent model streams exactly the fixture bytes under 200 application/x-ndjson', async () => {
    const res = await post('/api/pull', JSON.stringify({ model: 'no-such-model:7b' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(await res.text()).toBe(fixture('pull_stream_nonexistent_model.ndjson'));
  });

  it('names are case-insensitive and default to :latest; JSON is HTML-escaped like Go', async () => {
    const res = await post('/api/show', JSON.stringify({ model: 'LLAMA3.2:Latest' }));
    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(raw).toContain('\\u003c|eot_id|\\u003e');
    expect((JSON.parse(raw) as { details: { family: string } }).details.family).toBe('llama');
  });

  it('pull accepts the legacy `name` key; hang mode reads the request and never answers', async () => {
    const legacy = await post('/api/pull', JSON.stringify({ name: 'tinyllama', stream: false }));
    expect(await legacy.json()).toEqual({ status: 'success' });

    fake.state.hang = true;
    const controller = new AbortController();
    const pending = fetch(fake.url + '/api/version', { signal: controller.signal });
    const outcome = await Promise.race([pending.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(outcome).toBe('waiting');
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(fake.state.requests.at(-1)?.path).toBe('/api/version');
  });

  it('setDown refuses connections and setUp brings the same port back', async () => {
    await fake.setDown();
    await expect(fetch(fake.url + '/api/version')).rejects.toThrow();
    await fake.setUp();
    expect(await ollama.version()).toEqual({ version: '0.12.6' });
  });
});
