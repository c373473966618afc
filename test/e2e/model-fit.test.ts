/**
 * ollama_model_fit and the disk check of pulls, on the built server over SSH (the shared test sshd), with the
 * fake Ollama and the fake nvidia-smi printing a real RTX 2080 SUPER capture under load (8192 MiB, 6967 free).
 * The GPU scenario never changes during a run, so a cached GPU sample cannot make a test lie; the verdicts
 * come from what Ollama reports (models, loaded models) and the context length asked for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sharedSshd } from '../support/context.js';
import { privateNvidiaSmi } from '../support/fake-nvidia-smi.js';
import { addModel, fakeDigest, modelKey, startFakeOllama, type FakeOllama, type FakeLoadedModel } from '../support/fake-ollama.js';
import { connectMcp, resultJson } from '../support/mcp-client.js';
import { call, sshEnv, startServer, type RunningServer, expectError } from '../support/server.js';
import { waitFor } from '../support/waiting.js';

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';
const SCENARIO = 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load';
const FREE_MIB = 6967;
const FIT_FIELDS = [
  'host',
  'model',
  'context_length',
  'estimated_vram_mb',
  'free_vram_mb',
  'free_after_unload_mb',
  'unload',
  'verdict',
  'offload_percent',
  'explanation',
].sort();

describe('ollama_model_fit and the pull disk check (built server, ssh transport)', () => {
  let fake: FakeOllama;
  let server: RunningServer;
  let modelsDir: string;
  let seededLoaded: Map<string, FakeLoadedModel>;
  const fit = (query: Record<string, string>, key = READ) => call(server.url, 'GET', '/ollama/fit', { key, query });

  beforeAll(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'ght-models-'));
    fake = await startFakeOllama();
    seededLoaded = new Map(fake.state.loaded);
    server = await startServer({
      ...sshEnv(sharedSshd()),
      OLLAMA_URL: fake.url,
      OLLAMA_TUNNEL: 'false',
      OLLAMA_MODELS_DIR: modelsDir,
      NVIDIA_SMI_PATH: privateNvidiaSmi(SCENARIO).path,
      API_KEY: FULL,
      READONLY_API_KEY: READ,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });
  afterEach(() => {
    fake.state.loaded = new Map(seededLoaded);
  });

  it('fits: llama3.2 at 4096 tokens; the estimate is within 5 % of the size_vram the double reports for it loaded', async () => {
    const res = await fit({ model: 'llama3.2', context_length: '4096' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(FIT_FIELDS);
    expect(res.body).toMatchObject({
      host: 'whisper',
      model: 'llama3.2',
      context_length: 4096,
      verdict: 'fits',
      unload: [],
      offload_percent: 0,
    });
    expect(res.body.free_vram_mb).toBe(FREE_MIB);
    const loaded = fake.state.loaded.get(modelKey('llama3.2:latest')!)!;
    expect(loaded.context_length).toBe(4096);
    const sizeVramMib = loaded.size_vram / 1024 ** 2;
    expect(res.body.free_after_unload_mb).toBe(FREE_MIB + Math.ceil(sizeVramMib));
    const e = res.body.estimated_vram_mb;
    expect(e.total).toBe(e.weights + e.kv_cache + e.overhead);
    expect(e.weights).toBe(Math.ceil(2019393189 / 1024 ** 2));
    expect(e.kv_cache).toBe(448);
    expect(Math.abs(e.total - sizeVramMib) / sizeVramMib).toBeLessThan(0.05);
    expect(res.body.explanation).toContain('so it fits');
  });

  it("without context_length: Ollama's default for an 8 GiB GPU (4096)", async () => {
    const res = await fit({ model: 'requirements-agent' });
    expect(res.status).toBe(200);
    expect(res.body.context_length).toBe(4096);
    expect(res.body.explanation).toContain("Ollama's default for this VRAM");
  });

  it('fits_after_unload: requirements-agent at 32768 tokens needs the GPU memory llama3.2 holds', async () => {
    const res = await fit({ model: 'requirements-agent', context_length: '32768' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.estimated_vram_mb.total).toBeGreaterThan(FREE_MIB);
    expect(res.body).toMatchObject({ verdict: 'fits_after_unload', unload: ['llama3.2:latest'], offload_percent: 0 });
    expect(res.body.free_after_unload_mb).toBeGreaterThanOrEqual(res.body.estimated_vram_mb.total);
    expect(res.body.explanation).toContain('unloading llama3.2:latest');
  });

  it('partial_offload: at 65536 tokens even an empty GPU holds only part of the layers', async () => {
    const res = await fit({ model: 'requirements-agent', context_length: '65536' });
    expect(res.status).toBe(200);
    expect(res.body.verdict).toBe('partial_offload');
    expect(res.body.unload).toEqual(['llama3.2:latest']);
    expect(res.body.offload_percent).toBeGreaterThan(0);
    expect(res.body.offload_percent).toBeLessThan(100);
    expect(res.body.explanation).toMatch(/about \d+ of 29 layers fit, so about \d+ % would run on the CPU/);
  });

  it('does_not_fit: at 131072 tokens with nothing loaded the compute graph alone fills the GPU', async () => {
    fake.state.loaded.clear();
    const res = await fit({ model: 'requirements-agent', context_length: '131072' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ verdict: 'does_not_fit', offload_percent: 100, unload: [], free_after_unload_mb: FREE_MIB });
    expect(res.body.explanation).toContain('CPU only');
  });

  it('the same answer over MCP (official SDK client), in structuredContent and the text block', async () => {
    const mcp = await connectMcp(server.url, READ);
    try {
      const tools = await mcp.client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('ollama_model_fit');
      const result = await mcp.client.callTool({ name: 'ollama_model_fit', arguments: { model: 'llama3.2', context_length: 4096 } });
      expect(result.isError).toBeFalsy();
      const rest = await fit({ model: 'llama3.2', context_length: '4096' });
      expect(resultJson(result)).toEqual(rest.body);
      expect(result.structuredContent).toEqual(rest.body);
    } finally {
      await mcp.close();
    }
  });

  it('a cloud model takes no local VRAM', async () => {
    const res = await fit({ model: 'glm-5.3:cloud' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ verdict: 'fits', estimated_vram_mb: { weights: 0, kv_cache: 0, overhead: 0, total: 0 } });
    expect(res.body.explanation).toContain('cloud model');
  });

  it('a model that is not installed: 404 MODEL_NOT_FOUND', async () => {
    expectError(await fit({ model: 'not-here:7b' }), 404, 'MODEL_NOT_FOUND');
  });

  it('Ollama listing the model without a usable size: 502 OLLAMA_ERROR, not a NaN estimate', async () => {
    const agent = fake.state.models.get(modelKey('requirements-agent:latest')!)!;
    const size = agent.size;
    agent.size = null as unknown as number;
    try {
      const res = await fit({ model: 'requirements-agent' });
      expectError(res, 502, 'OLLAMA_ERROR');
      expect(res.body.message).toContain('without a size');
    } finally {
      agent.size = size;
    }
  });

  it('a safetensors model without GGUF metadata: 400 naming what is missing', async () => {
    const res = await fit({ model: 'qwen3.8:27b-mlx' });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.message).toContain('general.architecture');
  });

  it.each([
    [{ model: 'llama3.2', context_length: '0' }, 'context_length'],
    [{ model: 'llama3.2', context_length: '-4096' }, 'context_length'],
    [{ model: 'llama3.2', context_length: '4096.5' }, 'context_length'],
    [{ model: 'llama3.2', context_length: 'lots' }, 'context_length'],
    [{ model: 'llama3.2', context_length: '99999999999' }, 'context_length'],
    [{ model: 'llama3.2', context_length: '' }, 'context_length'],
    [{ model: '../../etc/passwd' }, 'model'],
    [{ model: 'llama3.2; rm -rf /' }, 'model'],
    [{ context_length: '4096' }, 'model'],
    [{ model: 'llama3.2', num_ctx: '4096' }, 'num_ctx'],
  ])('bad input %j → 400 naming %s', async (query, field) => {
    const res = await fit(query as Record<string, string>);
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.message).toContain(field);
  });

  it('the read-only key may call it; no key is 401', async () => {
    expect((await fit({ model: 'llama3.2' }, READ)).status).toBe(200);
    expectError(await call(server.url, 'GET', '/ollama/fit', { query: { model: 'llama3.2' } }), 401, 'UNAUTHORIZED');
  });

  describe('disk check of pulls', () => {
    const HUGE_LAYER = 50e12; // 50 TB: more than any test machine's disk
    const huge = 'huge:70b';

    beforeAll(() => {
      fake.state.registry.set(modelKey(huge)!, {
        layers: [
          { kind: 'model', digest: fakeDigest('huge/model'), size: HUGE_LAYER },
          { kind: 'config', digest: fakeDigest('huge/config'), size: 483 },
        ],
        details: { parent_model: '', format: 'gguf', family: 'llama', families: null, parameter_size: '70B', quantization_level: 'Q4_K_M' },
      });
    });

    it('a pull that cannot fit fails at the first layer line, with needed, available and where; the download is stopped', async () => {
      // A line every 50 ms, like a real download's progress; the layer would take 1000 of them.
      fake.state.pullChunksPerLayer = 1000;
      fake.state.pullDelayMs = 50;
      const res = await call(server.url, 'POST', '/ollama/pull', { key: FULL, body: { model: huge, wait_seconds: 30 } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ kind: 'pull', model: huge, state: 'failed', total_bytes: HUGE_LAYER });
      expect(res.body.error).toContain(`Not enough disk space to pull '${huge}' on host 'whisper'`);
      expect(res.body.error).toContain('needs 50000.00 GB more (50000000000000 bytes');
      expect(res.body.error).toMatch(/but \d+\.\d\d GB is free on \/\S*, the file system of /);
      expect(res.body.error).toContain(modelsDir);
      // Ollama saw the client go away long before the end (a generous bound: 5 % = 2.5 s of progress lines).
      await waitFor(
        'the fake to see the pull closed',
        () => fake.state.cancelled.some((c) => c.kind === 'pull' && c.model === huge),
        10_000,
      );
      const blob = fake.state.blobs.get(fakeDigest('huge/model'))!;
      expect(blob.completed).toBeLessThan(HUGE_LAYER * 0.05);
      expect(fake.state.models.has(modelKey(huge)!)).toBe(false);
    });

    it('a pull that fits still succeeds', async () => {
      fake.state.pullChunksPerLayer = 4;
      fake.state.pullDelayMs = 0;
      const res = await call(server.url, 'POST', '/ollama/pull', { key: FULL, body: { model: 'qwen2.5:0.5b', wait_seconds: 60 } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ state: 'succeeded', status: 'success', percent: 100, error: null });
      expect(fake.state.models.has(modelKey('qwen2.5:0.5b')!)).toBe(true);
    });

    it('a model already on disk costs nothing: re-pulling an installed huge model is not refused', async () => {
      addModel(fake.state, {
        name: huge,
        modified_at: '2026-11-30T10:00:00.000000001+01:00',
        digest: 'a'.repeat(64),
        size: HUGE_LAYER + 483,
        details: { parent_model: '', format: 'gguf', family: 'llama', families: null, parameter_size: '70B', quantization_level: 'Q4_K_M' },
        layers: fake.state.registry.get(modelKey(huge)!)!.layers,
      });
      const res = await call(server.url, 'POST', '/ollama/pull', { key: FULL, body: { model: huge, wait_seconds: 30 } });
      expect(res.body).toMatchObject({ state: 'succeeded', error: null });
    });
  });
});

describe('ollama_model_fit on a host without a working nvidia-smi', () => {
  let fake: FakeOllama;
  let server: RunningServer;

  beforeAll(async () => {
    fake = await startFakeOllama();
    server = await startServer({
      ...sshEnv(sharedSshd()),
      OLLAMA_URL: fake.url,
      OLLAMA_TUNNEL: 'false',
      NVIDIA_SMI_PATH: '/nonexistent/nvidia-smi',
      API_KEY: FULL,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.stop();
  });

  it('503 GPU_UNAVAILABLE naming the host and saying why', async () => {
    const res = await call(server.url, 'GET', '/ollama/fit', { key: FULL, query: { model: 'llama3.2' } });
    expectError(res, 503, 'GPU_UNAVAILABLE');
    expect(res.body.message).toContain("Cannot tell whether 'llama3.2' fits in VRAM");
    expect(res.body.message).toContain('whisper');
  });
});
