import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/common/errors.js';
import { OllamaAbortError } from '../../src/infra/ollama/ollama-errors.js';
import type { OllamaProgress } from '../../src/infra/ollama/ollama-wire-types.js';
import { JobStore, type JobProgressReport, type StartJob } from '../../src/modules/ollama/jobs.js';

/** A runner the test drives by hand: emit progress lines, then succeed or fail; records the abort signal. */
function manualRunner() {
  let emit: (p: OllamaProgress) => void = () => {};
  let resolve: () => void = () => {};
  let reject: (e: unknown) => void = () => {};
  let signal: AbortSignal | undefined;
  let calls = 0;
  const run: StartJob['run'] = (s, onProgress) => {
    calls++;
    signal = s;
    emit = onProgress;
    return new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
      // Like OllamaClient: an abort rejects the stream with OllamaAbortError.
      s.addEventListener('abort', () => rej(new OllamaAbortError()), { once: true });
    });
  };
  return {
    run,
    emit: (p: OllamaProgress) => emit(p),
    succeed: () => resolve(),
    fail: (e: unknown) => reject(e),
    signal: () => signal,
    calls: () => calls,
  };
}

const flush = () => new Promise((r) => setImmediate(r));
const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const D3 = `sha256:${'c'.repeat(64)}`;

describe('JobStore progress', () => {
  it('sums interleaved layers, treats an omitted completed as 0 and keeps the latest status line', () => {
    const store = new JobStore();
    const r = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'whisper', model: 'gemma:2b', run: r.run });
    expect(job).toMatchObject({ state: 'running', kind: 'pull', host: 'whisper', model: 'gemma:2b', percent: null, error: null });

    r.emit({ status: 'pulling manifest' });
    expect(store.get(job.job_id)).toMatchObject({ status: 'pulling manifest', completed_bytes: 0, total_bytes: 0, percent: null });

    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 1000 });
    r.emit({ status: 'pulling bbbbbbbbbbbb', digest: D2, total: 3000, completed: 300 });
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 1000, completed: 500 });
    r.emit({ status: 'pulling bbbbbbbbbbbb', digest: D2, total: 3000, completed: 1200 });
    r.emit({ status: 'pulling cccccccccccc', digest: D3, total: 7, completed: 7 });
    const view = store.get(job.job_id);
    expect(view.total_bytes).toBe(4007);
    expect(view.completed_bytes).toBe(500 + 1200 + 7);
    expect(view.percent).toBe(Math.round(((500 + 1200 + 7) / 4007) * 1000) / 10);
    expect(view.status).toBe('pulling cccccccccccc');
  });

  it('never lets a layer go backwards or past its total', () => {
    const store = new JobStore();
    const r = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: r.run });
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 100, completed: 60 });
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 100, completed: 20 });
    expect(store.get(job.job_id)).toMatchObject({ completed_bytes: 60, total_bytes: 100, percent: 60 });
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 100, completed: 250 });
    expect(store.get(job.job_id)).toMatchObject({ completed_bytes: 100, total_bytes: 100, percent: 100 });
  });

  it('stops counting new digests past maxLayers but keeps the status line', () => {
    const store = new JobStore({ maxLayers: 2 });
    const r = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: r.run });
    r.emit({ status: 'one', digest: D1, total: 10, completed: 10 });
    r.emit({ status: 'two', digest: D2, total: 20, completed: 5 });
    r.emit({ status: 'three', digest: D3, total: 1_000_000, completed: 1 });
    r.emit({ status: 'two again', digest: D2, total: 20, completed: 20 });
    expect(store.get(job.job_id)).toMatchObject({ status: 'two again', completed_bytes: 30, total_bytes: 30 });
  });

  it('ends succeeded with status success, 100 percent and a finished_at', async () => {
    const store = new JobStore();
    const r = manualRunner();
    const { job } = store.start({ kind: 'create', host: 'h', model: 'm', run: r.run });
    r.emit({ status: 'using existing layer sha256:abc' });
    r.succeed();
    const done = await store.wait(job.job_id, 1000);
    expect(done).toMatchObject({ state: 'succeeded', status: 'success', percent: 100, error: null });
    expect(Date.parse(done.finished_at as string)).toBeGreaterThanOrEqual(Date.parse(done.started_at));
  });

  it("ends failed with the AppError's message, and hides the text of anything else", async () => {
    const store = new JobStore();
    const a = manualRunner();
    const b = manualRunner();
    const ja = store.start({ kind: 'pull', host: 'h', model: 'nope', run: a.run }).job;
    const jb = store.start({ kind: 'pull', host: 'h', model: 'other', run: b.run }).job;
    a.emit({ status: 'pulling manifest' });
    a.fail(new AppError(502, 'OLLAMA_ERROR', 'Ollama reported: pull model manifest: file does not exist'));
    b.fail(new TypeError('secret internals at /srv/app.js:12'));
    const fa = await store.wait(ja.job_id, 1000);
    const fb = await store.wait(jb.job_id, 1000);
    expect(fa).toMatchObject({
      state: 'failed',
      status: 'pulling manifest',
      error: 'Ollama reported: pull model manifest: file does not exist',
    });
    expect(fb.state).toBe('failed');
    expect(fb.error).not.toContain('secret');
  });
});

describe('JobStore dedupe', () => {
  it('returns the running job for a second pull of the same model on the same host, in any spelling', () => {
    const store = new JobStore();
    const r = manualRunner();
    const first = store.start({ kind: 'pull', host: 'whisper', model: 'gemma:2b', run: r.run });
    const again = store.start({ kind: 'pull', host: 'whisper', model: 'GEMMA:2b', run: manualRunner().run });
    const full = store.start({ kind: 'pull', host: 'whisper', model: 'registry.ollama.ai/library/gemma:2b', run: manualRunner().run });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, job: { job_id: first.job.job_id } });
    expect(full.job.job_id).toBe(first.job.job_id);
    expect(r.calls()).toBe(1);
    expect(store.list()).toHaveLength(1);
  });

  it('runs the same model on another host, and the same host after the first finished, as new jobs', async () => {
    const store = new JobStore();
    const r = manualRunner();
    const a = store.start({ kind: 'pull', host: 'one', model: 'llama3.2', run: r.run }).job;
    const b = store.start({ kind: 'pull', host: 'two', model: 'llama3.2', run: manualRunner().run }).job;
    expect(b.job_id).not.toBe(a.job_id);
    r.succeed();
    await store.wait(a.job_id, 1000);
    const c = store.start({ kind: 'pull', host: 'one', model: 'llama3.2:latest', run: manualRunner().run });
    expect(c.created).toBe(true);
    expect(c.job.job_id).not.toBe(a.job_id);
  });

  it('joins an identical create but refuses a different create or a pull of that model with 409', () => {
    const store = new JobStore();
    const first = store.start({ kind: 'create', host: 'h', model: 'agent', fingerprint: '{"from":"llama3.2"}', run: manualRunner().run });
    const same = store.start({ kind: 'create', host: 'h', model: 'agent', fingerprint: '{"from":"llama3.2"}', run: manualRunner().run });
    expect(same.job.job_id).toBe(first.job.job_id);
    for (const spec of [
      { kind: 'create' as const, fingerprint: '{"from":"gemma"}' },
      { kind: 'pull' as const, fingerprint: undefined },
    ]) {
      try {
        store.start({ ...spec, host: 'h', model: 'agent:latest', run: manualRunner().run });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBe(409);
        expect((err as AppError).message).toContain(first.job.job_id);
      }
    }
  });

  it('caps the number of running jobs', () => {
    const store = new JobStore({ maxRunning: 2 });
    store.start({ kind: 'pull', host: 'h', model: 'a', run: manualRunner().run });
    store.start({ kind: 'pull', host: 'h', model: 'b', run: manualRunner().run });
    expect(() => store.start({ kind: 'pull', host: 'h', model: 'c', run: manualRunner().run })).toThrow(/already running/);
  });
});

describe('JobStore eviction', () => {
  it('forgets finished jobs after the retention time, naming it in the 404', async () => {
    let now = 1_000_000;
    const store = new JobStore({ retentionMs: 60 * 60_000, now: () => now });
    const r = manualRunner();
    const running = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'a', run: r.run });
    const long = store.start({ kind: 'pull', host: 'h', model: 'b', run: running.run }).job;
    r.succeed();
    await flush();
    now += 59 * 60_000;
    expect(store.get(job.job_id).state).toBe('succeeded');
    now += 2 * 60_000;
    let err: AppError | undefined;
    try {
      store.get(job.job_id);
    } catch (e) {
      err = e as AppError;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(err?.message).toContain('60 minutes');
    // A running job is never evicted, however old.
    expect(store.get(long.job_id).state).toBe('running');
  });

  it('keeps at most maxFinished finished jobs, dropping the oldest finished first', async () => {
    let now = 0;
    const store = new JobStore({ maxFinished: 3, now: () => now });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      now += 1000;
      const r = manualRunner();
      ids.push(store.start({ kind: 'pull', host: 'h', model: `m${i}`, run: r.run }).job.job_id);
      r.succeed();
      await flush();
    }
    const kept = store.list().map((j) => j.job_id);
    expect(kept).toEqual([ids[4], ids[3], ids[2]]);
    expect(() => store.get(ids[0] as string)).toThrow(/No job with id/);
  });

  it('does not count running jobs against the finished bound', async () => {
    const store = new JobStore({ maxFinished: 1 });
    const running = store.start({ kind: 'pull', host: 'h', model: 'big', run: manualRunner().run }).job;
    for (const m of ['a', 'b']) {
      const r = manualRunner();
      store.start({ kind: 'pull', host: 'h', model: m, run: r.run });
      r.fail(new AppError(502, 'OLLAMA_ERROR', 'x'));
      await flush();
    }
    const states = store.list().map((j) => [j.model, j.state]);
    expect(states).toEqual([
      ['b', 'failed'],
      ['big', 'running'],
    ]);
    expect(store.get(running.job_id).state).toBe('running');
  });
});

describe('JobStore wait and cancel', () => {
  it('answers after the wait with the job still running, and at once when it finishes', async () => {
    const store = new JobStore();
    const r = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: r.run });
    const waited = await store.wait(job.job_id, 50);
    expect(waited.state).toBe('running');
    const pending = store.wait(job.job_id, 60_000);
    setTimeout(() => r.succeed(), 20);
    const started = Date.now();
    const done = await pending;
    expect(done.state).toBe('succeeded');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops waiting when the caller signal aborts, leaving the job running', async () => {
    const store = new JobStore();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: manualRunner().run });
    const ac = new AbortController();
    const pending = store.wait(job.job_id, 60_000, { signal: ac.signal });
    ac.abort();
    expect((await pending).state).toBe('running');
  });

  it('reports progress throttled and only when the byte count grows', async () => {
    let now = 0;
    const store = new JobStore({ progressIntervalMs: 500, now: () => now });
    const r = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: r.run });
    const reports: JobProgressReport[] = [];
    const pending = store.wait(job.job_id, 60_000, { onProgress: (p) => reports.push(p) });
    // The wait reports once at its start (nothing known yet).
    expect(reports).toEqual([{ progress: 0, message: 'starting' }]);
    now += 100;
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 1000, completed: 100 });
    expect(reports).toHaveLength(1); // throttled
    now += 500;
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 1000, completed: 400 });
    expect(reports[1]).toEqual({ progress: 400, total: 1000, message: 'pulling aaaaaaaaaaaa' });
    now += 600;
    r.emit({ status: 'verifying sha256 digest' }); // no new bytes: MCP progress must increase
    expect(reports).toHaveLength(2);
    r.succeed();
    expect((await pending).state).toBe('succeeded');
  });

  it('cancel aborts the runner signal and ends the job cancelled', async () => {
    const store = new JobStore();
    const r = manualRunner();
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: r.run });
    r.emit({ status: 'pulling aaaaaaaaaaaa', digest: D1, total: 1000, completed: 100 });
    const cancelled = await store.cancel(job.job_id);
    expect(r.signal()?.aborted).toBe(true);
    expect(cancelled).toMatchObject({ state: 'cancelled', error: null, completed_bytes: 100 });
    expect(cancelled.finished_at).not.toBeNull();
    // Cancelling again, or a finished job, changes nothing.
    expect(await store.cancel(job.job_id)).toEqual(cancelled);
    // The model is free for a new pull.
    expect(store.start({ kind: 'pull', host: 'h', model: 'm', run: manualRunner().run }).created).toBe(true);
  });

  it('cancel gives up waiting for a runner that ignores the signal', async () => {
    const store = new JobStore({ cancelGraceMs: 20 });
    const { job } = store.start({ kind: 'pull', host: 'h', model: 'm', run: () => new Promise(() => {}) });
    expect((await store.cancel(job.job_id)).state).toBe('cancelled');
  });

  it('uses unguessable ids', () => {
    const store = new JobStore();
    const a = store.start({ kind: 'pull', host: 'h', model: 'a', run: manualRunner().run }).job.job_id;
    const b = store.start({ kind: 'pull', host: 'h', model: 'b', run: manualRunner().run }).job.job_id;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});

describe('JobStore counts (the ght_jobs gauge)', () => {
  const count = (store: JobStore, kind: string, state: string) => store.counts().find((c) => c.kind === kind && c.state === state)?.count;

  it('every kind and state, zeros included, following starts, ends and the retention sweep', async () => {
    let now = 1_000_000;
    const store = new JobStore({ retentionMs: 60_000, now: () => now });
    expect(store.counts()).toHaveLength(8);
    expect(store.counts().every((c) => c.count === 0)).toBe(true);
    const a = manualRunner();
    const b = manualRunner();
    const c = manualRunner();
    const { job: ja } = store.start({ kind: 'pull', host: 'h', model: 'a', run: a.run });
    const { job: jb } = store.start({ kind: 'pull', host: 'h', model: 'b', run: b.run });
    store.start({ kind: 'create', host: 'h', model: 'c', run: c.run });
    expect([count(store, 'pull', 'running'), count(store, 'create', 'running')]).toEqual([2, 1]);
    a.succeed();
    b.fail(new AppError(502, 'OLLAMA_ERROR', 'pull model manifest: file does not exist'));
    await store.wait(ja.job_id, 1000);
    await store.wait(jb.job_id, 1000);
    expect([count(store, 'pull', 'running'), count(store, 'pull', 'succeeded'), count(store, 'pull', 'failed')]).toEqual([0, 1, 1]);
    now += 61_000; // past the retention: finished jobs are no longer kept, so no longer counted
    expect([count(store, 'pull', 'succeeded'), count(store, 'pull', 'failed'), count(store, 'create', 'running')]).toEqual([0, 0, 1]);
  });
});
