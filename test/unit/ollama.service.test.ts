/**
 * OllamaService without the server: the real service, JobStore and OllamaClient against the in-process fake
 * Ollama (test/support/fake-ollama.ts), with a fake host registry whose transport answers the disk check's
 * df and a fake GpuService.status(). Each public method's success and failure paths, in a few seconds; the e2e
 * tests cover the same calls through REST and MCP.
 */
import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/common/errors.js';
import type { HostConfig } from '../../src/config/config.types.js';
import type { Host, HostRegistry } from '../../src/infra/host-registry.js';
import { OllamaClient } from '../../src/infra/ollama/ollama-client.js';
import type { ExecResult, HostTransport } from '../../src/infra/transport.js';
import type { GpuService } from '../../src/modules/gpu/gpu.service.js';
import type { OllamaJob } from '../../src/modules/ollama/dto/ollama-jobs.dto.js';
import type { JobProgressReport } from '../../src/modules/ollama/jobs.js';
import { JobStore } from '../../src/modules/ollama/jobs.js';
import { OllamaService } from '../../src/modules/ollama/ollama.service.js';
import { appErrorOfAsync } from '../support/errors.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { RTX2080_IDLE } from '../support/fit-fixtures.js';

const MODELS_DIR = '/usr/share/ollama/.ollama/models';
/** What the disk check's command prints on a host with `availableKib` free on /. */
const dfOutput = (availableKib: number) =>
  `@@gpu-host-tools:models-dir:${MODELS_DIR}\nFilesystem     1024-blocks     Used Available Capacity Mounted on\n` +
  `/dev/vda         264212084 23061408 ${availableKib}      22% /\n`;

function hostConfig(name: string, ollamaUrl: string): HostConfig {
  return {
    name,
    transport: 'local',
    ollama_url: ollamaUrl,
    ollama_tunnel: false,
    nvidia_smi_path: 'nvidia-smi',
    shell: {
      enabled: false,
      default_timeout_seconds: 30,
      max_timeout_seconds: 300,
      max_output_bytes: 65536,
      max_read_bytes: 1 << 20,
      allow: [],
      deny: [],
    },
    results: { default_max_bytes: 12 * 1024 },
  };
}

let fake: FakeOllama;
let hosts: Host[];
let jobs: JobStore;
let service: OllamaService;
/** What the fake transport answers to the disk check: df output, or a failure (no df on the host). */
let diskCheck: () => Promise<string>;
const execCommands: string[] = [];
/** What the fake GpuService.status() answers (the whole reading, uncut). */
let gpuStatus: () => Promise<unknown>;

beforeEach(async () => {
  fake = await startFakeOllama();
  diskCheck = async () => dfOutput(83329504); // 79 GiB free
  gpuStatus = async () => ({ host: 'whisper', gpus: RTX2080_IDLE, processes: [] });
  execCommands.length = 0;
  // The service reaches a host's shell only for the disk check of a pull.
  const transport = {
    exec: async (command: string): Promise<ExecResult> => {
      execCommands.push(command);
      const stdout = await diskCheck();
      return {
        exitCode: 0,
        signal: null,
        stdout,
        stderr: '',
        stdoutBytes: stdout.length,
        stderrBytes: 0,
        stdoutTruncated: false,
        stderrTruncated: false,
        timedOut: false,
        outputLimitReached: false,
        durationMs: 1,
      };
    },
  } as unknown as HostTransport;
  hosts = ['whisper', 'harbor'].map((name) => ({
    name,
    config: hostConfig(name, fake.url),
    transport,
    files: undefined as unknown as Host['files'],
    ollama: new OllamaClient({ baseUrl: fake.url, hostName: name, connectTimeoutMs: 2000, requestTimeoutMs: 500, idleTimeoutMs: 500 }),
  }));
  // Like HostRegistry.get: the default host without a name, 404 HOST_NOT_FOUND for an unknown one.
  const registry = {
    get: (name?: string) => {
      const host = hosts.find((h) => h.name === (name ?? 'whisper'));
      if (!host) throw new AppError(404, 'HOST_NOT_FOUND', `No host named "${name}" is configured`);
      return host;
    },
  } as unknown as HostRegistry;
  const gpu = { status: () => gpuStatus() } as unknown as GpuService;
  jobs = new JobStore({ progressIntervalMs: 0, cancelGraceMs: 300 });
  service = new OllamaService(registry, jobs, gpu);
});

afterEach(async () => {
  service.onApplicationShutdown();
  for (const h of hosts) h.ollama.close();
  await fake.stop();
});

/** Long-polls the job to its end (ollama_job_status returns as soon as it finishes). */
const finished = (job: OllamaJob) => service.ollama_job_status({ job_id: job.job_id, wait_seconds: 30 });
const installed = async () => (await service.ollama_list_models({ max_models: 1000 })).models.map((m) => m.name);

describe('reads', () => {
  it('ollama_version names the host and the URL; an unknown host is 404 HOST_NOT_FOUND before any call', async () => {
    expect(await service.ollama_version({})).toEqual({ host: 'whisper', version: '0.12.6', url: fake.url });
    expect(await appErrorOfAsync(service.ollama_version({ host: 'nowhere' }))).toMatchObject({ status: 404, code: 'HOST_NOT_FOUND' });
    expect(fake.state.requests).toHaveLength(1);
  });

  it('Ollama down: 502 OLLAMA_UNREACHABLE naming the host and what to check', async () => {
    await fake.setDown();
    const err = await appErrorOfAsync(service.ollama_list_models({ host: 'harbor' }));
    expect(err).toMatchObject({ status: 502, code: 'OLLAMA_UNREACHABLE' });
    expect(err.message).toContain(`Ollama at ${fake.url} (host 'harbor') refused the connection`);
  });

  it('Ollama accepts and never answers: 504 OLLAMA_TIMEOUT after the request timeout', async () => {
    fake.state.hang = true;
    const err = await appErrorOfAsync(service.ollama_running_models({}));
    expect(err).toMatchObject({ status: 504, code: 'OLLAMA_TIMEOUT' });
    expect(err.message).toContain('did not answer the running-model list within 0.5 s');
  });

  it('ollama_list_models: newest first, all by default; max_models or the answer budget leave the rest out with a note', async () => {
    const all = await service.ollama_list_models({});
    expect(all.note).toBeUndefined();
    expect(all.models.map((m) => m.name)).toContain('llama3.2:latest');
    const times = all.models.map((m) => Date.parse(m.modified_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const two = await service.ollama_list_models({ max_models: 2 });
    expect(two.models).toEqual(all.models.slice(0, 2));
    expect(two.note).toBe(
      `Showing the 2 most recently modified of ${all.models.length} models; pass max_models (e.g. ${all.models.length}) to list them all.`,
    );

    hosts[0]!.config.results.default_max_bytes = 600;
    const budget = await service.ollama_list_models({});
    expect(budget.models.length).toBeGreaterThanOrEqual(1);
    expect(budget.models.length).toBeLessThan(all.models.length);
    expect(budget.note).toContain(`of ${all.models.length} models`);
  });

  it('ollama_show_model: Modelfile, typed parameters, template; a missing model is 404 MODEL_NOT_FOUND', async () => {
    const shown = await service.ollama_show_model({ model: 'llama3.2', max_bytes: 1 << 20 });
    expect(shown.modelfile).toMatch(/^FROM /m);
    expect(shown.modelfile).toContain('LLAMA 3.2 COMMUNITY LICENSE AGREEMENT');
    expect(shown.parameters.stop).toEqual(expect.arrayContaining(['<|eot_id|>']));
    expect(shown.template).toContain('<|start_header_id|>');
    expect(shown.note).toBeUndefined();

    const err = await appErrorOfAsync(service.ollama_show_model({ model: 'no-such-model' }));
    expect(err).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect(err.message).toContain("model 'no-such-model' not found on Ollama at");
  });

  it('ollama_show_model within a small max_bytes leaves the license and then the template out, saying how to get them', async () => {
    const full = await service.ollama_show_model({ model: 'llama3.2', max_bytes: 1 << 20 });
    const small = await service.ollama_show_model({ model: 'llama3.2', max_bytes: 1024 });
    expect(small.modelfile).not.toContain('COMMUNITY LICENSE');
    expect(small.modelfile).toContain('# LICENSE of llama3.2 left out here');
    expect(small.template).toBeNull();
    expect(small.note).toMatch(/^LICENSE \(\d+ bytes\) and TEMPLATE \(\d+ bytes\) left out of this answer/);
    // The size it would take to see them: the full answer's plus a margin.
    const asked = Number(/pass max_bytes (\d+) to see them\.$/.exec(small.note!)?.[1]);
    expect(asked).toBeGreaterThan(Buffer.byteLength(JSON.stringify(full)));
  });

  it('ollama_running_models: the share in VRAM per model', async () => {
    const { host, models } = await service.ollama_running_models({});
    expect(host).toBe('whisper');
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) expect(m.gpu_percent).toBe(m.size_bytes > 0 ? Math.round((m.size_vram_bytes / m.size_bytes) * 100) : 0);
  });
});

describe('pull as a job', () => {
  it('runs in the background: wait_seconds 0 answers at once with the running job, job_status long-polls to its end', async () => {
    fake.state.pullDelayMs = 5;
    const started = await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 });
    expect(started).toMatchObject({ kind: 'pull', host: 'whisper', model: 'gemma:2b', state: 'running', error: null });
    // A 30 s long-poll returns as soon as the job ends: vitest's 30 s test timeout would fail it otherwise.
    const done = await finished(started);
    expect(done).toMatchObject({ job_id: started.job_id, state: 'succeeded', status: 'success', percent: 100 });
    expect(done.total_bytes).toBeGreaterThan(0);
    expect(done.completed_bytes).toBe(done.total_bytes);
    expect(await installed()).toContain('gemma:2b');
    // The disk check ran before the pull, on the host's shell.
    expect(execCommands).toHaveLength(1);
    expect(execCommands[0]).toMatch(/^sh -c /);
  });

  it('reports growing progress to an MCP caller while it waits, and the same pull again joins the job', async () => {
    fake.state.pullDelayMs = 5;
    const reports: JobProgressReport[] = [];
    const first = service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 30 }, { onProgress: (r) => reports.push(r) });
    const again = await service.ollama_pull_model({ model: 'GEMMA:2b', wait_seconds: 0 });
    const job = await first;
    expect(again.job_id).toBe(job.job_id);
    expect(job.state).toBe('succeeded');
    expect(reports.length).toBeGreaterThan(1);
    for (let i = 1; i < reports.length; i++) expect(reports[i]!.progress).toBeGreaterThan(reports[i - 1]!.progress);
    expect(reports.at(-1)!.total).toBe(job.total_bytes);
  });

  it("a model the registry does not have: the job fails with Ollama's words and a hint", async () => {
    const job = await finished(await service.ollama_pull_model({ model: 'no-such-model:7b', wait_seconds: 0 }));
    expect(job.state).toBe('failed');
    expect(job.error).toContain("reported an error during the pull of 'no-such-model:7b': pull model manifest: file does not exist");
    expect(job.error).toContain('the model or tag does not exist in the registry');
  });

  it('an error in the middle of the stream fails the job with that error, after some progress', async () => {
    fake.state.midStreamError.set('registry.ollama.ai/library/gemma:2b', 'max retries exceeded: unexpected EOF');
    const job = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    expect(job.state).toBe('failed');
    expect(job.error).toContain('max retries exceeded: unexpected EOF');
    expect(job.total_bytes).toBeGreaterThan(0);
    expect(await installed()).not.toContain('gemma:2b');
  });

  it('a stream that goes silent fails the job with OLLAMA_TIMEOUT wording and the last status', async () => {
    fake.state.stallAfterLines = 2;
    const job = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/sent nothing for 0\.5 s during the pull of 'gemma:2b' \(last status: 'pulling [0-9a-f]{12}'\)/);
  });

  it('Ollama down: the job fails saying Ollama refused the connection', async () => {
    await fake.setDown();
    const job = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    expect(job.state).toBe('failed');
    expect(job.error).toContain("(host 'whisper') refused the connection");
  });

  it('disk pre-check: layers bigger than the free space stop the pull before the download, with the numbers', async () => {
    fake.state.pullDelayMs = 5;
    fake.state.pullChunksPerLayer = 100; // a whole pull is hundreds of lines
    diskCheck = async () => dfOutput(1000); // 1 MB free
    const job = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(
      /^Not enough disk space to pull 'gemma:2b' on host 'whisper': it needs [\d.]+ GB more \(\d+ bytes, layers seen so far\) but 0\.00 GB is free on \/, the file system of \/usr\/share\/ollama\/\.ollama\/models/,
    );
    // Throwing from the progress callback closed the stream: Ollama saw the client go after the first layer line.
    await expect.poll(() => fake.state.cancelled.length, { timeout: 5000 }).toBe(1);
    expect(fake.state.cancelled[0]!.linesSent).toBeLessThan(20);
    expect(await installed()).not.toContain('gemma:2b');
  });

  it('a disk check that cannot run (no df, shell failing) does not block the pull', async () => {
    diskCheck = async () => {
      throw new AppError(503, 'HOST_UNREACHABLE', 'no shell');
    };
    const job = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    expect(job.state).toBe('succeeded');
  });

  it('cancel: the job becomes cancelled, the stream is closed (Ollama sees it), and a cancel of a finished job changes nothing', async () => {
    fake.state.pullDelayMs = 20;
    fake.state.pullChunksPerLayer = 100;
    const started = await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 });
    await expect.poll(() => jobs.get(started.job_id).completed_bytes, { timeout: 10_000 }).toBeGreaterThan(0);
    const cancelled = await service.ollama_cancel_job({ job_id: started.job_id });
    expect(cancelled).toMatchObject({ state: 'cancelled', error: null });
    await expect.poll(() => fake.state.cancelled.length, { timeout: 5000 }).toBe(1);
    expect(fake.state.cancelled[0]).toMatchObject({ kind: 'pull', model: 'gemma:2b' });
    expect(await service.ollama_cancel_job({ job_id: started.job_id })).toEqual(cancelled);
    expect(await installed()).not.toContain('gemma:2b');
  });

  it('a cancel while the disk check runs: the job is cancelled and no pull reaches Ollama', async () => {
    let answerDf: (stdout: string) => void = () => {};
    diskCheck = () => new Promise<string>((resolve) => (answerDf = resolve));
    const started = await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 });
    await expect.poll(() => execCommands.length).toBe(1);
    expect((await service.ollama_cancel_job({ job_id: started.job_id })).state).toBe('cancelled');
    answerDf(dfOutput(83329504));
    expect((await finished(started)).state).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.state.requests.filter((r) => r.path === '/api/pull')).toEqual([]);
  });

  it('server shutdown cancels running jobs', async () => {
    fake.state.pullDelayMs = 20;
    fake.state.pullChunksPerLayer = 100;
    const started = await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 });
    service.onApplicationShutdown();
    expect((await finished(started)).state).toBe('cancelled');
  });
});

describe('create as a job', () => {
  it('show, change a line of the Modelfile, create again: the new parameter is in the model', async () => {
    const shown = await service.ollama_show_model({ model: 'requirements-agent', max_bytes: 1 << 20 });
    const modelfile = `${shown.modelfile}\nPARAMETER temperature 0.6\n`;
    const job = await finished(await service.ollama_create_model({ model: 'requirements-agent', modelfile, wait_seconds: 0 }));
    expect(job).toMatchObject({ kind: 'create', state: 'succeeded', status: 'success' });
    expect((await service.ollama_show_model({ model: 'requirements-agent' })).parameters.temperature).toBe(0.6);
  });

  it('what show left out of a small answer is put back from the model the marker names', async () => {
    const full = await service.ollama_show_model({ model: 'llama3.2', max_bytes: 1 << 20 });
    const small = await service.ollama_show_model({ model: 'llama3.2', max_bytes: 1024 });
    const showsBefore = fake.state.requests.filter((r) => r.path === '/api/show').length;
    const job = await finished(await service.ollama_create_model({ model: 'llama-copy', modelfile: small.modelfile, wait_seconds: 30 }));
    expect(job.state).toBe('succeeded');
    // Both markers name llama3.2: one show of it serves both.
    expect(fake.state.requests.filter((r) => r.path === '/api/show').length - showsBefore).toBe(1);
    const copy = await service.ollama_show_model({ model: 'llama-copy', max_bytes: 1 << 20 });
    expect(copy.template).toBe(full.template);
    expect(copy.modelfile).toContain('LLAMA 3.2 COMMUNITY LICENSE AGREEMENT');
    expect(copy.modelfile).toContain('Llama 3.2 Acceptable Use Policy');
    // Sent to Ollama, not kept by it: the create body carries both values taken from llama3.2.
    const create = fake.state.requests.find((r) => r.path === '/api/create')!.body as Record<string, unknown>;
    expect(create.template).toBe(full.template);
    expect(create.license).toEqual([
      'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024',
      'Llama 3.2 Acceptable Use Policy',
    ]);
  });

  it('a bad Modelfile is a 400 before any job starts', async () => {
    const err = await appErrorOfAsync(service.ollama_create_model({ model: 'x', modelfile: 'PARAMETER temperature hot\n' }));
    expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(jobs.list()).toEqual([]);
    expect(fake.state.requests).toHaveLength(0);
  });

  it("a base model that is not installed and not in the registry: the job fails with Ollama's words", async () => {
    const job = await finished(await service.ollama_create_model({ model: 'x', from: 'no-such-base', wait_seconds: 0 }));
    expect(job.state).toBe('failed');
    expect(job.error).toContain("the creation of 'x'");
  });

  it('a different create of a model being pulled is a 409 naming the running job', async () => {
    fake.state.pullDelayMs = 20;
    fake.state.pullChunksPerLayer = 100;
    const pull = await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 });
    const err = await appErrorOfAsync(service.ollama_create_model({ model: 'gemma:2b', from: 'llama3.2' }));
    expect(err).toMatchObject({ status: 409 });
    expect(err.message).toContain(`A pull of 'gemma:2b' is already running on host 'whisper' (job ${pull.job_id})`);
  });
});

describe('jobs', () => {
  it("ollama_job_status: an unknown id is 404 JOB_NOT_FOUND; a host that is not the job's is 404 naming the right one", async () => {
    expect(await appErrorOfAsync(service.ollama_job_status({ job_id: '6f1c1d52-0000-4000-8000-000000000000' }))).toMatchObject({
      status: 404,
      code: 'JOB_NOT_FOUND',
    });
    const job = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    const err = await appErrorOfAsync(service.ollama_job_status({ job_id: job.job_id, host: 'harbor' }));
    expect(err).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(err.message).toBe(`Job '${job.job_id}' runs on host 'whisper', not 'harbor'; call again with host 'whisper' or without host.`);
    expect(await appErrorOfAsync(service.ollama_cancel_job({ job_id: job.job_id, host: 'harbor' }))).toMatchObject({
      code: 'JOB_NOT_FOUND',
    });
    expect((await service.ollama_job_status({ job_id: job.job_id, host: 'whisper' })).state).toBe('succeeded');
  });

  it("ollama_list_jobs: newest first, one host's jobs when host is given", async () => {
    const a = await finished(await service.ollama_pull_model({ model: 'gemma:2b', wait_seconds: 0 }));
    const b = await finished(await service.ollama_pull_model({ host: 'harbor', model: 'qwen2.5:0.5b', wait_seconds: 0 }));
    expect((await service.ollama_list_jobs({})).jobs.map((j) => j.job_id)).toEqual([b.job_id, a.job_id]);
    expect((await service.ollama_list_jobs({ host: 'harbor' })).jobs.map((j) => j.job_id)).toEqual([b.job_id]);
  });
});

describe('copy, delete, unload', () => {
  it('copy then delete; a missing source or model is 404 MODEL_NOT_FOUND', async () => {
    expect(await service.ollama_copy_model({ source: 'llama3.2', destination: 'mine' })).toEqual({
      host: 'whisper',
      source: 'llama3.2',
      destination: 'mine',
    });
    expect(await installed()).toContain('mine:latest');
    expect(await service.ollama_delete_model({ model: 'mine' })).toEqual({ host: 'whisper', model: 'mine' });
    expect(await installed()).not.toContain('mine:latest');
    expect(await appErrorOfAsync(service.ollama_delete_model({ model: 'mine' }))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect(await appErrorOfAsync(service.ollama_copy_model({ source: 'nothing', destination: 'x' }))).toMatchObject({
      status: 404,
      code: 'MODEL_NOT_FOUND',
    });
  });

  it('unload answers with the model; a model that is not installed is 404', async () => {
    expect(await service.ollama_unload_model({ model: 'llama3.2' })).toEqual({ host: 'whisper', model: 'llama3.2' });
    expect(await appErrorOfAsync(service.ollama_unload_model({ model: 'nothing' }))).toMatchObject({
      status: 404,
      code: 'MODEL_NOT_FOUND',
    });
  });
});

describe('ollama_model_fit', () => {
  it('an installed model on the captured 8 GiB GPU: a verdict with the numbers', async () => {
    const fit = await service.ollama_model_fit({ model: 'llama3.2', context_length: 4096 });
    expect(fit).toMatchObject({ host: 'whisper', model: 'llama3.2', context_length: 4096, verdict: 'fits', free_vram_mb: 7571 });
    expect(fit.estimated_vram_mb.weights).toBe(Math.ceil(2019393189 / (1024 * 1024)));
    // Without context_length, the model's own num_ctx (read from show's parameter text) decides.
    const llama = fake.state.models.get('registry.ollama.ai/library/llama3.2:latest')!;
    llama.parameters = { ...llama.parameters, num_ctx: 16384 };
    const own = await service.ollama_model_fit({ model: 'llama3.2' });
    expect(own.context_length).toBe(16384);
    expect(own.explanation).toContain("at 16384 tokens (the model's num_ctx)");
  });

  it('a model that is not installed is 404 saying to pull it; a cloud model takes no VRAM', async () => {
    const err = await appErrorOfAsync(service.ollama_model_fit({ model: 'gemma:2b' }));
    expect(err).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    const cloud = await service.ollama_model_fit({ model: 'glm-5.3:cloud' });
    expect(cloud).toMatchObject({ verdict: 'fits', offload_percent: 0, estimated_vram_mb: { total: 0 } });
    expect(cloud.explanation).toContain('is a cloud model');
  });

  it('no GPU reading: 503 GPU_UNAVAILABLE saying why; other gpu_status failures pass through unchanged', async () => {
    gpuStatus = async () => {
      throw new AppError(503, 'GPU_UNAVAILABLE', 'nvidia-smi is not installed on host whisper.');
    };
    const err = await appErrorOfAsync(service.ollama_model_fit({ model: 'llama3.2' }));
    expect(err).toMatchObject({ status: 503, code: 'GPU_UNAVAILABLE' });
    expect(err.message).toBe("Cannot tell whether 'llama3.2' fits in VRAM: nvidia-smi is not installed on host whisper.");
    const dropped = new AppError(503, 'HOST_UNREACHABLE', 'SSH dropped');
    gpuStatus = async () => {
      throw dropped;
    };
    expect(await appErrorOfAsync(service.ollama_model_fit({ model: 'llama3.2' }))).toBe(dropped);
  });
});
