/**
 * gpu_status and gpu_history default answers on big hosts, against the built server on the local
 * transport with the fake nvidia-smi: hosts of 1, 8, 16 and 32 GPUs with 10 processes each, built from
 * the real H100 capture (no real capture of a many-GPU host exists), each answer within 12 KiB with a
 * note naming what was left out; gpu_history with gpu_index shows a left-out GPU; a host with a larger
 * results.default_max_bytes gets everything; a 1-GPU host's answer is the whole reading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addManyGpuScenario, privateNvidiaSmi } from '../support/fake-nvidia-smi.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { connectMcp } from '../support/mcp-client.js';
import { call, startServer, type RunningServer } from '../support/server.js';

const KEY = 'gpu-answer-size-key-0123456789';
const BUDGET = 12 * 1024;
const CAPTURE = 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01';
const PER_GPU = 10;
const COUNTS = [1, 8, 16, 32] as const;

const dir = mkdtempSync(join(tmpdir(), 'ght-gpu-answer-size-'));
const binDirs: string[] = [];
let server: RunningServer;
let ollama: FakeOllama;

/** A host `name` whose fake nvidia-smi lists `gpus` GPUs; `extra` adds YAML lines to its settings. */
function hostYaml(name: string, gpus: number, extra = ''): string {
  const smi = privateNvidiaSmi();
  binDirs.push(smi.binDir);
  smi.setScenario(addManyGpuScenario(smi.binDir, { capture: CAPTURE, state: 'load', gpus, processesPerGpu: PER_GPU }));
  return `  ${name}:\n    transport: local\n    nvidia_smi_path: ${smi.path}\n${extra}`;
}

const get = async (path: string, query: Record<string, string>) => {
  const res = await call(server.url, 'GET', path, { key: KEY, query });
  expect(res.status, res.text).toBe(200);
  return { body: res.body, bytes: Buffer.byteLength(res.text) };
};
/** An answer without its host name and times, to compare two hosts' answers byte for byte. */
const timeless = (text: string) =>
  text.replace(/"host":"[^"]*"/, '"host":""').replace(/"(collected_at|sampled_at|from|to)":"[^"]*"/g, '"$1":""');

beforeAll(async () => {
  ollama = await startFakeOllama();
  const hosts = COUNTS.map((n) => hostYaml(`g${n}`, n, `    ollama_url: ${ollama.url}\n`));
  hosts.push(hostYaml('g1wide', 1, '    results:\n      default_max_bytes: 4194304\n'));
  hosts.push(hostYaml('g32wide', 32, '    results:\n      default_max_bytes: 131072\n'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `keys:\n  reader: {key: ${KEY}, scopes: [read]}\ngpu: {sampler: 'off'}\nhosts:\n${hosts.join('')}`,
  );
  server = await startServer({ CONFIG_FILE: join(dir, 'config.yaml') });
});

afterAll(async () => {
  await server?.stop();
  await ollama?.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const d of binDirs) rmSync(d, { recursive: true, force: true });
});

describe('default GPU answers within 12 KiB on big hosts', () => {
  it.each(COUNTS)('%i GPUs with 10 processes each: gpu_status and gpu_history within 12 KiB', async (n) => {
    const status = await get('/gpu/status', { host: `g${n}` });
    const history = await get('/gpu/history', { host: `g${n}` });
    console.log(`${n} GPUs: gpu_status ${status.bytes} B, gpu_history ${history.bytes} B`);
    expect(status.bytes).toBeLessThanOrEqual(BUDGET);
    expect(history.bytes).toBeLessThanOrEqual(BUDGET);
    const gpus = status.body.gpus as Array<{ index: number }>;
    expect(gpus.map((g) => g.index)).toEqual(Array.from({ length: gpus.length }, (_, i) => i)); // the first ones, whole
    if (n === 1) {
      expect(status.body.note).toBeUndefined();
      expect(status.body.processes).toHaveLength(PER_GPU);
      expect(history.body.note).toBeUndefined();
    } else {
      // Every one of these is over the list share of the budget: something is left out, and the note says what.
      expect(status.body.note).toMatch(/^Left out to keep this answer small: /);
      expect(status.body.note).toContain('gpu_history with gpu_index');
      expect(status.body.note).toContain('results.default_max_bytes');
    }
    if (gpus.length < n) {
      expect(status.body.processes).toEqual([]);
      expect(status.body.note).toContain(`GPUs ${gpus.length}-${n - 1} (${n - gpus.length} of ${n}) and all ${n * PER_GPU} processes`);
    } else if (n > 1) {
      expect(status.body.note).toContain(`${n * PER_GPU - status.body.processes.length} of ${n * PER_GPU} processes`);
    }
  });

  it('8 GPUs: every GPU shown, each with its largest processes', async () => {
    const { body } = await get('/gpu/status', { host: 'g8' });
    expect(body.gpus).toHaveLength(8);
    const perGpu = body.gpus.map((g: any) => body.processes.filter((p: any) => p.gpu_uuid === g.uuid));
    for (const mine of perGpu) {
      expect(mine.length).toBeGreaterThan(0);
      // The capture's processes use 15690, 2566 and 1542 MiB: the largest is kept first.
      expect(mine.map((p: any) => p.used_memory_mb)).toContain(15690);
    }
  });

  it("gpu_history's GPUs past the cut: the note names them, and gpu_index shows each one whole", async () => {
    const { body } = await get('/gpu/history', { host: 'g32' });
    const shown = body.gpus.length;
    expect(shown).toBeLessThan(32);
    expect(body.note).toContain(`GPUs ${shown}-31 (${32 - shown} of 32)`);
    expect(body.note).toContain(`gpu_index (e.g. ${shown})`);
    for (const index of [shown, 31]) {
      const one = await get('/gpu/history', { host: 'g32', gpu_index: String(index) });
      expect(one.body.note).toBeUndefined();
      expect(one.body.gpus).toHaveLength(1);
      expect(one.body.gpus[0]).toMatchObject({ index, name: 'NVIDIA H100 80GB HBM3' });
      expect(one.body.gpus[0].memory_used_mb.max).toBe(19818);
      // As many as the history keeps for a GPU (the capture's three processes, repeated, peak at the same sizes).
      expect(one.body.gpus[0].top_processes.length).toBeGreaterThanOrEqual(3);
      expect(one.body.gpus[0].top_processes[0]).toMatchObject({ process_name: './gpu_burn', used_memory_mb: 15690 });
    }
  });

  it("gpu_status's GPUs past the cut: gpu_history with gpu_index, as the note says, shows one of them", async () => {
    const { body } = await get('/gpu/status', { host: 'g32' });
    const index = Number(/gpu_index \(e\.g\. (\d+)\)/.exec(body.note)?.[1]);
    expect(index).toBe(body.gpus.length);
    const one = await get('/gpu/history', { host: 'g32', gpu_index: String(index), window_minutes: '1' });
    expect(one.body.gpus.map((g: any) => g.index)).toEqual([index]);
    expect(one.body.gpus[0].uuid).toBe(`GPU-00000000-0000-0000-0000-${String(index).padStart(12, '0')}`);
  });

  it('a host with a larger results.default_max_bytes gets every GPU and process', async () => {
    const status = await get('/gpu/status', { host: 'g32wide' });
    expect(status.body.note).toBeUndefined();
    expect(status.body.gpus).toHaveLength(32);
    expect(status.body.processes).toHaveLength(32 * PER_GPU);
    expect(status.bytes).toBeGreaterThan(4 * BUDGET);
    const history = await get('/gpu/history', { host: 'g32wide' });
    expect(history.body.note).toBeUndefined();
    expect(history.body.gpus).toHaveLength(32);
    const one = await get('/gpu/history', { host: 'g32wide', gpu_index: '31' });
    for (const g of history.body.gpus) expect(g.top_processes).toHaveLength(one.body.gpus[0].top_processes.length);
  });

  it('a 1-GPU host answers the whole reading: byte for byte what a host with a 4 MiB answer size gets', async () => {
    for (const path of ['/gpu/status', '/gpu/history']) {
      const small = await call(server.url, 'GET', path, { key: KEY, query: { host: 'g1' } });
      const wide = await call(server.url, 'GET', path, { key: KEY, query: { host: 'g1wide' } });
      expect(small.status).toBe(200);
      if (path === '/gpu/history') {
        // The two hosts' histories hold different numbers of readings (earlier tests called g1); the rest is the same.
        const samples = (t: string) => t.replace(/"(samples|seconds_above_90_percent)":\d+/g, '"$1":0');
        expect(samples(timeless(small.text))).toBe(samples(timeless(wide.text)));
      } else {
        expect(timeless(small.text)).toBe(timeless(wide.text));
      }
      expect(small.text).not.toContain('"note"');
    }
  });

  it('ollama_model_fit still counts the free memory of every GPU, not only those a cut gpu_status shows', async () => {
    const { body: status } = await get('/gpu/status', { host: 'g32' });
    expect(status.gpus.length).toBeLessThan(32);
    const { body: fit } = await get('/ollama/fit', { host: 'g32', model: 'llama3.2', context_length: '4096' });
    // The H100 capture's GPU has 61263 MiB free; all 32 of them count.
    expect(status.gpus[0].memory_free_mb).toBe(61263);
    expect(fit.free_vram_mb).toBe(32 * 61263);
  });

  it('over MCP the same: the 32-GPU answer the model reads is within 12 KiB and has the note', async () => {
    const mcp = await connectMcp(server.url, KEY);
    try {
      for (const name of ['gpu_status', 'gpu_history']) {
        const result: any = await mcp.client.callTool({ name, arguments: { host: 'g32' } });
        expect(result.isError).toBeFalsy();
        const text = result.content[0].text as string;
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(BUDGET);
        expect(JSON.parse(text).note).toContain('gpu_history with gpu_index');
      }
    } finally {
      await mcp.close();
    }
  });
});
