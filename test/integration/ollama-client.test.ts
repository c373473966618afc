/**
 * OllamaClient against the fake Ollama (test/support/fake-ollama.ts) and a few hand-written misbehaving
 * servers: every method, the empty-body answers, errors before and inside a stream, refused connections,
 * servers that accept and never answer, and cancellation.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/common/errors.js';
import { OllamaClient } from '../../src/infra/ollama/ollama-client.js';
import { OllamaAbortError } from '../../src/infra/ollama/ollama-errors.js';
import type { OllamaProgress } from '../../src/infra/ollama/ollama-wire-types.js';
import { parseModelfile } from '../../src/modules/ollama/modelfile.js';
import { cancelledPull } from '../support/cancelled-pull.js';
import { appErrorOfAsync } from '../support/errors.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';

let fake: FakeOllama;
let client: OllamaClient;
const extraServers: http.Server[] = [];

beforeEach(async () => {
  fake = await startFakeOllama();
  client = new OllamaClient({ baseUrl: fake.url, hostName: 'whisper' });
});
afterEach(async () => {
  client.close();
  await fake.stop();
  for (const s of extraServers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** An ad-hoc server for answers the fake never gives (proxies, truncated streams). */
async function misbehavingServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  extraServers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Nothing from axios (config, headers, request) may ride along on an error. */
function expectCleanError(err: AppError): void {
  expect(Object.keys(err).sort()).toEqual(['code', 'name', 'status']);
  expect(JSON.stringify(err)).not.toMatch(/headers|config|request/i);
}

describe('OllamaClient: reads', () => {
  it('version()', async () => {
    expect(await client.version()).toEqual({ version: '0.12.6' });
  });

  it("tags() returns Ollama's list as sent", async () => {
    const { models } = await client.tags();
    const llama = models.find((m) => m.name === 'llama3.2:latest');
    expect(llama).toEqual({
      name: 'llama3.2:latest',
      model: 'llama3.2:latest',
      modified_at: '2025-05-04T17:37:44.706015396-07:00',
      size: 2019393189,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
      details: {
        parent_model: '',
        format: 'gguf',
        family: 'llama',
        families: ['llama'],
        parameter_size: '3.2B',
        quantization_level: 'Q4_K_M',
      },
      capabilities: ['completion', 'tools'],
    });
    expect(models.find((m) => m.name === 'glm-5.3:cloud')).toMatchObject({
      remote_model: 'glm-5.3',
      remote_host: 'https://ollama.com',
      size: 293,
    });
  });

  it('show() sends the name in the JSON body, never in the URL', async () => {
    const show = await client.show('requirements-agent');
    expect(show.system).toContain('requirements agent for the ccpm project');
    expect(show.parameters).toContain('temperature                    0.7');
    expect(show.details?.family).toBe('llama');
    const req = fake.state.requests.at(-1);
    expect(req).toMatchObject({ method: 'POST', path: '/api/show', body: { model: 'requirements-agent' } });
  });

  it('ps()', async () => {
    const { models } = await client.ps();
    expect(models.map((m) => [m.name, m.size_vram, m.context_length])).toEqual([['llama3.2:latest', 3321450496, 4096]]);
  });

  it("show() of an unknown model → 404 MODEL_NOT_FOUND with Ollama's text and what to do", async () => {
    const err = await appErrorOfAsync(client.show('nope'));
    expect(err.status).toBe(404);
    expect(err.code).toBe('MODEL_NOT_FOUND');
    expect(err.message).toBe(
      `model 'nope' not found on Ollama at ${fake.url} (host 'whisper'); check the exact name against the local model list, or pull the model first.`,
    );
    expectCleanError(err);
  });
});

describe('OllamaClient: copy, delete, unload', () => {
  it("copy() and delete() resolve on Ollama's empty 200 bodies; delete is a DELETE with a JSON body", async () => {
    await expect(client.copy('llama3.2', 'llama3-backup')).resolves.toBeUndefined();
    expect((await client.tags()).models.map((m) => m.name)).toContain('llama3-backup:latest');
    await expect(client.delete('llama3-backup')).resolves.toBeUndefined();
    expect((await client.tags()).models.map((m) => m.name)).not.toContain('llama3-backup:latest');
    expect(fake.state.requests.filter((r) => r.path === '/api/delete')).toMatchObject([
      { method: 'DELETE', body: { model: 'llama3-backup' }, headers: { 'content-type': 'application/json' } },
    ]);
  });

  it("copy() and delete() of a missing model → MODEL_NOT_FOUND carrying Ollama's own quoting", async () => {
    const copyErr = await appErrorOfAsync(client.copy('ghost', 'x'));
    expect(copyErr.code).toBe('MODEL_NOT_FOUND');
    expect(copyErr.message).toMatch(/^model "ghost" not found on Ollama at /);
    const delErr = await appErrorOfAsync(client.delete('ghost'));
    expect(delErr.code).toBe('MODEL_NOT_FOUND');
    expect(delErr.message).toMatch(/^model 'ghost' not found on Ollama at /);
  });

  it('unload() posts {model, keep_alive: 0} and returns the single JSON answer', async () => {
    const res = await client.unload('llama3.2');
    expect(res).toMatchObject({ model: 'llama3.2', response: '', done: true, done_reason: 'unload' });
    expect(fake.state.requests.at(-1)).toMatchObject({ path: '/api/generate', body: { model: 'llama3.2', keep_alive: 0 } });
    expect((await client.ps()).models).toEqual([]);
    expect((await appErrorOfAsync(client.unload('ghost'))).code).toBe('MODEL_NOT_FOUND');
  });
});

describe('OllamaClient: pull and create streams', () => {
  it('pull() reports every line in order and resolves at success; the model is then listed', async () => {
    const seen: OllamaProgress[] = [];
    const last = await client.pull('gemma:2b', { onProgress: (p) => seen.push(p) });
    expect(last).toEqual({ status: 'success' });
    expect(seen[0]).toEqual({ status: 'pulling manifest' });
    expect(seen.at(-1)).toEqual({ status: 'success' });
    const firstLayer = seen.find((p) => p.digest);
    expect(firstLayer).toEqual({
      status: 'pulling c1864a5eb193',
      digest: 'sha256:c1864a5eb19305c40519da12cc543519e48a0697ecd30e15d5ac228644957d12',
      total: 1678447520,
    });
    expect(seen.filter((p) => p.digest === firstLayer?.digest).at(-1)?.completed).toBe(1678447520);
    expect((await client.tags()).models.find((m) => m.name === 'gemma:2b')?.size).toBe(1678456656);
    expect(fake.state.requests.at(-2)).toMatchObject({ path: '/api/pull', body: { model: 'gemma:2b', stream: true } });
  });

  it("an error before the first line (HTTP 400) → VALIDATION_FAILED with Ollama's text", async () => {
    const seen: OllamaProgress[] = [];
    const err = await appErrorOfAsync(client.pull('Bad Name!', { onProgress: (p) => seen.push(p) }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toBe('Ollama rejected the request: invalid model name');
    expect(seen).toEqual([]);
  });

  it('an {"error"} line inside a 200 stream → OLLAMA_ERROR with Ollama\'s text and a hint', async () => {
    const seen: string[] = [];
    const err = await appErrorOfAsync(client.pull('no-such-model:7b', { onProgress: (p) => seen.push(p.status) }));
    expect(seen).toEqual(['pulling manifest']);
    expect(err.status).toBe(502);
    expect(err.code).toBe('OLLAMA_ERROR');
    expect(err.message).toBe(
      `Ollama at ${fake.url} (host 'whisper') reported an error during the pull of 'no-such-model:7b': pull model manifest: file does not exist ` +
        '(the model or tag does not exist in the registry; check the exact name and tag on https://ollama.com/library)',
    );
  });

  it('an error injected after the first layer → OLLAMA_ERROR after real progress', async () => {
    fake.state.midStreamError.set(
      'registry.ollama.ai/library/gemma:2b',
      'write /usr/share/ollama/.ollama/models/blobs/x: no space left on device',
    );
    const seen: OllamaProgress[] = [];
    const err = await appErrorOfAsync(client.pull('gemma:2b', { onProgress: (p) => seen.push(p) }));
    expect(seen.filter((p) => p.completed === 1678447520)).toHaveLength(1);
    expect(err.code).toBe('OLLAMA_ERROR');
    expect(err.message).toContain(
      ': write /usr/share/ollama/.ollama/models/blobs/x: no space left on device (the Ollama host is out of disk space',
    );
  });

  it('create() with a structured body (from + system + parameters)', async () => {
    const seen: string[] = [];
    const last = await client.create(
      { model: 'mario', from: 'llama3.2', system: 'You are Mario.', parameters: { temperature: 1, num_ctx: 4096 } },
      { onProgress: (p) => seen.push(p.status) },
    );
    expect(last).toEqual({ status: 'success' });
    expect(seen[0]).toBe('reading model metadata');
    expect(seen.slice(-2)).toEqual(['writing manifest', 'success']);
    expect(fake.state.requests.at(-1)?.body).toEqual({
      model: 'mario',
      from: 'llama3.2',
      system: 'You are Mario.',
      parameters: { temperature: 1, num_ctx: 4096 },
      stream: true,
    });
    expect((await client.show('mario')).system).toBe('You are Mario.');
  });

  it('create() with only the pre-0.5.5 `modelfile` field is refused by Ollama → VALIDATION_FAILED', async () => {
    const body = { model: 'mario', modelfile: 'FROM llama3.2' } as unknown as Parameters<OllamaClient['create']>[0];
    const err = await appErrorOfAsync(client.create(body));
    expect(err.message).toBe("Ollama rejected the request: neither 'from' or 'files' was specified");
  });

  it("the user's scenario: show the Modelfile, set temperature 0.6, create again, show again", async () => {
    const before = await client.show('requirements-agent');
    expect(before.modelfile).toContain('PARAMETER temperature 0.7\n');
    const edited = (before.modelfile as string).replace('PARAMETER temperature 0.7', 'PARAMETER temperature 0.6');
    const body = parseModelfile(edited);
    // The show output's FROM is a blob on the Ollama host: it becomes `files`, like the CLI would send.
    expect(Object.values(body.files ?? {})).toEqual(['sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff']);
    expect(body.parameters?.temperature).toBe(0.6);

    await client.create({ model: 'requirements-agent', ...body });

    const after = await client.show('requirements-agent');
    expect(after.parameters).toContain('temperature                    0.6');
    expect(after.parameters).not.toContain('0.7');
    expect(after.system).toBe(before.system);
    expect(after.template).toBe(before.template);
    expect(after.license).toBe(before.license);
    expect(after.parameters?.split('\n').filter((l) => l.startsWith('stop'))).toEqual(
      before.parameters?.split('\n').filter((l) => l.startsWith('stop')),
    );
    expect(after.modelfile).toContain('PARAMETER temperature 0.6\n');
    expect(after.details).toEqual(before.details);
  });

  it('a stream that ends without success → OLLAMA_ERROR naming the last status', async () => {
    const url = await misbehavingServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.end('{"status":"pulling manifest"}\n{"status":"pulling aabbccddeeff","digest":"sha256:aa","total":10}\n');
    });
    const c = new OllamaClient({ baseUrl: url });
    const err = await appErrorOfAsync(c.pull('gemma:2b'));
    c.close();
    expect(err.code).toBe('OLLAMA_ERROR');
    expect(err.message).toBe(
      `Ollama at ${url} ended the pull of 'gemma:2b' without reporting success (last status: 'pulling aabbccddeeff'); ` +
        'the connection was probably interrupted or Ollama restarted. Try again: a pull resumes where it stopped.',
    );
  });

  it('a stream line that is not JSON → OLLAMA_ERROR quoting it', async () => {
    const url = await misbehavingServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html>\n<html><body>Open WebUI</body></html>\n');
    });
    const c = new OllamaClient({ baseUrl: url });
    const err = await appErrorOfAsync(c.pull('gemma:2b'));
    c.close();
    expect(err.message).toBe(
      `Ollama at ${url} answered /api/pull with a stream line that is not JSON: "<!DOCTYPE html>"; ` +
        'check that the URL points at Ollama itself (not a proxy or another service).',
    );
  });
});

describe("OllamaClient: answers that are not Ollama's", () => {
  it('HTML under 200 → OLLAMA_ERROR quoting at most 200 characters on one line', async () => {
    const html = `<!DOCTYPE html>\n<html>\n<head><title>Login</title></head>\n<body>${'x'.repeat(500)}</body></html>`;
    const url = await misbehavingServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
    });
    const c = new OllamaClient({ baseUrl: url, hostName: 'whisper' });
    const err = await appErrorOfAsync(c.tags());
    c.close();
    expect(err.code).toBe('OLLAMA_ERROR');
    expect(err.message).toMatch(
      /^Ollama at http:\/\/127\.0\.0\.1:\d+ \(host 'whisper'\) answered \/api\/tags with something that is not JSON: "<!DOCTYPE html> <html> <head><title>Login<\/title><\/head> <body>x+…"; check that the URL points at Ollama itself/,
    );
    const quoted = /not JSON: "(.*)"; check/.exec(err.message)?.[1] ?? '';
    expect(quoted.length).toBe(201);
    expect(err.message).not.toContain('\n');
  });

  it("a proxy's 502 HTML page → OLLAMA_ERROR with the status and a snippet; a bare 404 page is not MODEL_NOT_FOUND", async () => {
    const url = await misbehavingServer((req, res) => {
      if (req.url === '/api/show') {
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end('<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>');
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('404 page not found');
      }
    });
    const c = new OllamaClient({ baseUrl: url });
    const showErr = await appErrorOfAsync(c.show('llama3.2'));
    expect(showErr.code).toBe('OLLAMA_ERROR');
    expect(showErr.message).toBe(
      `Ollama at ${url} answered the request to show 'llama3.2' with HTTP 502: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"`,
    );
    const psErr = await appErrorOfAsync(c.ps());
    c.close();
    expect(psErr.status).toBe(502);
    expect(psErr.code).toBe('OLLAMA_ERROR');
    expect(psErr.message).toMatch(
      /answered HTTP 404 to GET \/api\/ps \("404 page not found"\); check that the URL points at Ollama itself/,
    );
  });
});

describe('OllamaClient: network failures and bounds', () => {
  it('connection refused → 502 OLLAMA_UNREACHABLE naming the URL and what to do', async () => {
    const port = fake.port;
    await fake.stop();
    const c = new OllamaClient({ baseUrl: `http://127.0.0.1:${port}`, hostName: 'whisper' });
    for (const call of [() => c.tags(), () => c.pull('gemma:2b')]) {
      const err = await appErrorOfAsync(call());
      expect(err.status).toBe(502);
      expect(err.code).toBe('OLLAMA_UNREACHABLE');
      expect(err.message).toBe(
        `Ollama at http://127.0.0.1:${port} (host 'whisper') refused the connection; check that ollama is running and listening on that address (OLLAMA_HOST=0.0.0.0).`,
      );
      expectCleanError(err);
    }
    c.close();
  });

  it('a name that does not resolve → OLLAMA_UNREACHABLE saying so', async () => {
    const c = new OllamaClient({ baseUrl: 'http://whisper-gpu.invalid:11434' });
    const err = await appErrorOfAsync(c.version());
    c.close();
    expect(err.code).toBe('OLLAMA_UNREACHABLE');
    expect(err.message).toBe(
      "Ollama at http://whisper-gpu.invalid:11434 cannot be reached: the name 'whisper-gpu.invalid' does not resolve (DNS); check the Ollama URL in the configuration.",
    );
  });

  it('Ollama going away and coming back needs no new client', async () => {
    expect((await client.version()).version).toBe('0.12.6');
    await fake.setDown();
    expect((await appErrorOfAsync(client.version())).code).toBe('OLLAMA_UNREACHABLE');
    await fake.setUp();
    expect((await client.version()).version).toBe('0.12.6');
  });

  it('no TCP connection within connectTimeoutMs → 504 OLLAMA_TIMEOUT saying the connection was not accepted', async () => {
    // A listener whose process is stopped and whose accept queue is full: the kernel drops further SYNs,
    // which is what a firewall that drops packets or a powered-off host looks like to the client.
    const child = spawn(
      process.execPath,
      ['-e', "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))"],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const fillers: net.Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
      process.kill(child.pid as number, 'SIGSTOP');
      for (let i = 0; i < 4; i++) fillers.push(net.connect(port, '127.0.0.1').on('error', () => {}));
      await new Promise((r) => setTimeout(r, 200));
      const c = new OllamaClient({
        baseUrl: `http://127.0.0.1:${port}`,
        hostName: 'whisper',
        connectTimeoutMs: 300,
        requestTimeoutMs: 10_000,
      });
      const started = Date.now();
      const err = await appErrorOfAsync(c.version());
      c.close();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(err.status).toBe(504);
      expect(err.code).toBe('OLLAMA_TIMEOUT');
      expect(err.message).toBe(
        `Ollama at http://127.0.0.1:${port} (host 'whisper') did not accept a connection within 0.3 s; check that the host is up and that no firewall drops port ${port}.`,
      );
    } finally {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
    }
  });

  it('server accepts and never answers a plain call → 504 OLLAMA_TIMEOUT within requestTimeoutMs', async () => {
    fake.state.hang = true;
    const c = new OllamaClient({ baseUrl: fake.url, hostName: 'whisper', requestTimeoutMs: 300 });
    const started = Date.now();
    const err = await appErrorOfAsync(c.tags());
    c.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.status).toBe(504);
    expect(err.code).toBe('OLLAMA_TIMEOUT');
    expect(err.message).toBe(
      `Ollama at ${fake.url} (host 'whisper') accepted the connection but did not answer the model list within 0.3 s; ` +
        'it may be busy (loading a model) or stuck. Try again, and check the Ollama log on the host if it persists.',
    );
  });

  it('server accepts and never answers a pull → 504 OLLAMA_TIMEOUT within idleTimeoutMs', async () => {
    fake.state.hang = true;
    const c = new OllamaClient({ baseUrl: fake.url, idleTimeoutMs: 300 });
    const started = Date.now();
    const err = await appErrorOfAsync(c.pull('gemma:2b'));
    c.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('OLLAMA_TIMEOUT');
    expect(err.message).toBe(
      `Ollama at ${fake.url} accepted the connection but did not answer the pull of 'gemma:2b' within 0.3 s; ` +
        'it may be busy or stuck. Try again, and check the Ollama log on the host if it persists.',
    );
  });

  it('a stream that goes silent mid-pull → OLLAMA_TIMEOUT after idleTimeoutMs, and the connection is closed', async () => {
    fake.state.stallAfterLines = 3;
    const c = new OllamaClient({ baseUrl: fake.url, idleTimeoutMs: 300 });
    const seen: OllamaProgress[] = [];
    const err = await appErrorOfAsync(c.pull('gemma:2b', { onProgress: (p) => seen.push(p) }));
    c.close();
    expect(seen).toHaveLength(3);
    expect(err.code).toBe('OLLAMA_TIMEOUT');
    expect(err.message).toBe(
      `Ollama at ${fake.url} sent nothing for 0.3 s during the pull of 'gemma:2b' (last status: 'pulling c1864a5eb193'); ` +
        'it may be stuck. Check the Ollama log on the host and try again (a pull resumes where it stopped).',
    );
    await expect.poll(() => fake.state.cancelled.length, { timeout: 5000 }).toBe(1);
    expect(fake.state.cancelled[0]).toMatchObject({ kind: 'pull', model: 'gemma:2b', linesSent: 3 });
  });

  it('abort during a pull cancels the HTTP request: OllamaAbortError, and Ollama (the fake) sees the cancel', async () => {
    await cancelledPull(client, fake, 4);
    expect((await client.tags()).models.map((m) => m.name)).not.toContain('gemma:2b');
  });

  it('an exception thrown by onProgress is rethrown unchanged and closes the stream', async () => {
    fake.state.pullDelayMs = 20;
    fake.state.pullChunksPerLayer = 100;
    const boom = new Error('job store is full');
    await expect(
      client.pull('gemma:2b', {
        onProgress: (p) => {
          if (p.digest) throw boom;
        },
      }),
    ).rejects.toBe(boom);
    await expect.poll(() => fake.state.cancelled.length, { timeout: 5000 }).toBe(1);
  });

  it('an already-aborted signal rejects without sending anything', async () => {
    const before = fake.state.requests.length;
    await expect(client.pull('gemma:2b', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(OllamaAbortError);
    expect(fake.state.requests.length).toBe(before);
  });

  it('a bad base URL is a configuration error at construction', () => {
    expect(() => new OllamaClient({ baseUrl: 'whisper:11434' })).toThrow(/must start with http:\/\/ or https:\/\//);
    expect(() => new OllamaClient({ baseUrl: 'not a url' })).toThrow(/is not a URL/);
  });
});
