import { createHash, randomUUID } from 'node:crypto';
import { AppError, conflict } from '../../common/errors.js';
import { isOllamaAbortError } from '../../infra/ollama/ollama-errors.js';
import { modelIdentity } from '../../infra/ollama/model-name.js';
import type { OllamaProgress } from '../../infra/ollama/ollama-wire-types.js';
import type { OllamaJob } from './dto/ollama-jobs.dto.js';
import { clip } from '../../common/text.js';

/*
 * Jobs: pulls and creates outlive the request that starts them (Open WebUI's OpenAPI client reads no
 * streams and its MCP client gives up after ~300 s of silence), so each runs in the background here and is
 * polled by id. Memory stays bounded: progress is a per-layer map (a handful of digests), never the lines;
 * finished jobs are evicted by age and count; running jobs are capped.
 *
 * Deliberately free of Nest decorators so it can be unit-tested directly.
 *
 * Kept as one file past 300 lines: it is one store, and start, wait, cancel, finish and the sweep all keep
 * the same two maps (every job by id, the running one per host and model) consistent.
 */

export type JobKind = 'pull' | 'create';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The job as every operation returns it: the response DTO's own shape. */
export type JobView = OllamaJob;

/** What an MCP progress notification carries. */
export interface JobProgressReport {
  progress: number;
  total?: number;
  message?: string;
}

/** Finished jobs stay queryable this long by default (the operation descriptions quote it). */
export const DEFAULT_JOB_RETENTION_MINUTES = 60;
/** Most finished jobs kept by default. */
export const DEFAULT_MAX_FINISHED_JOBS = 100;

export interface JobStoreOptions {
  /** How long a finished job stays queryable. Default 60 minutes. */
  retentionMs?: number;
  /** Most finished jobs kept; the oldest finished go first. Default 100. */
  maxFinished?: number;
  /** Most jobs running at once over all hosts. Default 16. */
  maxRunning?: number;
  /** Most distinct layer digests counted per job; a misbehaving server cannot grow the map past it. Default 256. */
  maxLayers?: number;
  /** Least time between two progress reports to one waiter. Default 500 ms. */
  progressIntervalMs?: number;
  /** How long a cancel waits for the stream to close before answering. Default 5 s. */
  cancelGraceMs?: number;
  now?: () => number;
}

export interface StartJob {
  kind: JobKind;
  host: string;
  model: string;
  /**
   * Identifies what the job does beyond kind and model (for create: the request body). A second start with the
   * same kind and fingerprint joins the running job; anything else on the same model is a conflict.
   */
  fingerprint?: string;
  /** Does the work; resolves on success, rejects with an AppError or, after `signal` aborted, anything. */
  run: (signal: AbortSignal, onProgress: (progress: OllamaProgress) => void) => Promise<unknown>;
}

export interface WaitOptions {
  onProgress?: (report: JobProgressReport) => void;
  /** Stops the wait (not the job): the caller went away. */
  signal?: AbortSignal;
}

/** Longest status line kept; Ollama's are short, but the text comes from the network. */
const MAX_STATUS_CHARS = 300;
const MAX_ERROR_CHARS = 2000;

class Job {
  readonly id = randomUUID();
  state: JobState = 'running';
  status = 'starting';
  error: string | null = null;
  finishedAt: number | null = null;
  completed = 0;
  total = 0;
  layers = new Map<string, { total: number; completed: number }>();
  readonly controller = new AbortController();
  readonly listeners = new Set<() => void>();
  settled: Promise<void> = Promise.resolve();

  constructor(
    readonly kind: JobKind,
    readonly host: string,
    readonly model: string,
    readonly key: string,
    readonly fingerprint: string,
    readonly startedAt: number,
  ) {}
}

export class JobStore {
  readonly retentionMs: number;
  readonly maxFinished: number;
  readonly maxRunning: number;
  private readonly maxLayers: number;
  private readonly progressIntervalMs: number;
  private readonly cancelGraceMs: number;
  private readonly now: () => number;
  /** Insertion order = start order. */
  private readonly jobs = new Map<string, Job>();
  /** host + model identity → the running job. */
  private readonly running = new Map<string, Job>();

  constructor(options: JobStoreOptions = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_JOB_RETENTION_MINUTES * 60_000;
    this.maxFinished = options.maxFinished ?? DEFAULT_MAX_FINISHED_JOBS;
    this.maxRunning = options.maxRunning ?? 16;
    this.maxLayers = options.maxLayers ?? 256;
    this.progressIntervalMs = options.progressIntervalMs ?? 500;
    this.cancelGraceMs = options.cancelGraceMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Starts a job, or returns the one already running for that model on that host (`created: false`). */
  start(spec: StartJob): { job: JobView; created: boolean } {
    this.sweep();
    const key = `${spec.host}\u0000${modelIdentity(spec.model)}`;
    // Only a hash is kept: a create's fingerprint holds its whole Modelfile.
    const fingerprint = createHash('sha256')
      .update(spec.fingerprint ?? '')
      .digest('hex');
    const existing = this.running.get(key);
    if (existing) {
      if (existing.kind === spec.kind && existing.fingerprint === fingerprint) return { job: this.view(existing), created: false };
      throw conflict(
        `A ${existing.kind} of '${existing.model}' is already running on host '${existing.host}' (job ${existing.id}); ` +
          `wait for it with ollama_job_status or stop it with ollama_cancel_job, then try again.`,
      );
    }
    if (this.running.size >= this.maxRunning) {
      throw conflict(
        `${this.running.size} Ollama jobs are already running, the most this server runs at once; ` +
          'wait for one to finish (ollama_list_jobs) or cancel one, then try again.',
      );
    }
    const job = new Job(spec.kind, spec.host, spec.model, key, fingerprint, this.now());
    this.jobs.set(job.id, job);
    this.running.set(key, job);
    job.settled = this.execute(job, spec.run);
    return { job: this.view(job), created: true };
  }

  /** The job, or 404 JOB_NOT_FOUND saying how long jobs are kept. */
  get(id: string): JobView {
    return this.view(this.find(id));
  }

  /** Jobs kept, per kind and state (every combination, zeros included). */
  counts(): Array<{ kind: JobKind; state: JobState; count: number }> {
    this.sweep();
    const kinds: JobKind[] = ['pull', 'create'];
    const states: JobState[] = ['running', 'succeeded', 'failed', 'cancelled'];
    const all = [...this.jobs.values()];
    return kinds.flatMap((kind) =>
      states.map((state) => ({ kind, state, count: all.filter((j) => j.kind === kind && j.state === state).length })),
    );
  }

  /** Most recent first; only `host`'s jobs when given. */
  list(host?: string): JobView[] {
    this.sweep();
    return [...this.jobs.values()]
      .filter((j) => host === undefined || j.host === host)
      .reverse()
      .map((j) => this.view(j));
  }

  /**
   * Resolves when the job has finished, after `waitMs`, or when `signal` aborts, whichever comes first,
   * with the job as it is then. Reports progress to `onProgress` at most every `progressIntervalMs`, and only
   * when the byte count grew (MCP requires the progress value to increase).
   */
  async wait(id: string, waitMs: number, options: WaitOptions = {}): Promise<JobView> {
    const job = this.find(id);
    if (job.state === 'running' && waitMs > 0 && !options.signal?.aborted) {
      await new Promise<void>((resolve) => {
        let lastSentAt = Number.NEGATIVE_INFINITY;
        let lastProgress = -1;
        const report = () => {
          if (!options.onProgress) return;
          const now = this.now();
          if (now - lastSentAt < this.progressIntervalMs || job.completed <= lastProgress) return;
          lastSentAt = now;
          lastProgress = job.completed;
          try {
            options.onProgress({ progress: job.completed, ...(job.total > 0 ? { total: job.total } : {}), message: job.status });
          } catch {
            // A reporter that fails (client gone) must not end the wait or the job.
          }
        };
        const done = () => {
          clearTimeout(timer);
          job.listeners.delete(listener);
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        const listener = () => (job.state === 'running' ? report() : done());
        const timer = setTimeout(done, waitMs);
        job.listeners.add(listener);
        options.signal?.addEventListener('abort', done, { once: true });
        report();
      });
    }
    return this.view(job);
  }

  /**
   * Aborts a running job's stream (closing the connection is what makes Ollama stop) and answers once the
   * job has settled. A finished job is returned unchanged.
   */
  async cancel(id: string): Promise<JobView> {
    const job = this.find(id);
    if (job.state === 'running') {
      job.controller.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([job.settled, new Promise<void>((r) => (timer = setTimeout(r, this.cancelGraceMs)))]);
      clearTimeout(timer);
      // The runner ignored the signal; the job is over for us all the same.
      if (job.state === 'running') this.finish(job, 'cancelled', null);
    }
    return this.view(job);
  }

  /** Aborts every running job (server shutdown). */
  cancelAll(): void {
    for (const job of this.running.values()) job.controller.abort();
  }

  /** How long finished jobs are kept, for messages ("60 minutes"). */
  retentionText(): string {
    const minutes = Math.round(this.retentionMs / 60_000);
    return minutes >= 1 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.round(this.retentionMs / 1000)} seconds`;
  }

  // -------------------------------------------------------------------------------------------------

  private find(id: string): Job {
    this.sweep();
    const job = this.jobs.get(id);
    if (!job) {
      throw new AppError(
        404,
        'JOB_NOT_FOUND',
        `No job with id '${id}'. Finished jobs are kept for ${this.retentionText()} (at most ${this.maxFinished}), so it may have expired; ` +
          'call ollama_list_jobs to see the current jobs, and check the model list to see whether the pull or create finished.',
      );
    }
    return job;
  }

  private async execute(job: Job, run: StartJob['run']): Promise<void> {
    try {
      await run(job.controller.signal, (p) => this.progress(job, p));
      this.finish(job, 'succeeded', null);
    } catch (err) {
      if (job.controller.signal.aborted || isOllamaAbortError(err)) this.finish(job, 'cancelled', null);
      else this.finish(job, 'failed', errorMessage(err));
    }
  }

  private progress(job: Job, p: OllamaProgress): void {
    if (job.state !== 'running') return;
    if (typeof p.status === 'string' && p.status !== '') job.status = clip(p.status, MAX_STATUS_CHARS);
    if (p.digest !== undefined && typeof p.total === 'number' && Number.isFinite(p.total) && p.total >= 0) {
      const previous = job.layers.get(p.digest);
      if (previous || job.layers.size < this.maxLayers) {
        const total = p.total;
        const reported = typeof p.completed === 'number' && Number.isFinite(p.completed) ? p.completed : 0;
        // Never backwards: a byte count that shrinks would make percent and MCP progress jump back.
        const completed = Math.min(total, Math.max(previous?.completed ?? 0, reported));
        job.total += total - (previous?.total ?? 0);
        job.completed += completed - (previous?.completed ?? 0);
        job.layers.set(p.digest, { total, completed });
      }
    }
    for (const listener of [...job.listeners]) listener();
  }

  private finish(job: Job, state: Exclude<JobState, 'running'>, error: string | null): void {
    if (job.state !== 'running') return;
    job.state = state;
    job.error = error === null ? null : clip(error, MAX_ERROR_CHARS);
    if (state === 'succeeded') job.status = 'success';
    job.finishedAt = this.now();
    job.layers = new Map();
    if (this.running.get(job.key) === job) this.running.delete(job.key);
    for (const listener of [...job.listeners]) listener();
    this.sweep();
  }

  /** Drops finished jobs past their retention, then the oldest finished beyond the count bound. */
  private sweep(): void {
    const cutoff = this.now() - this.retentionMs;
    const finished: Job[] = [];
    for (const job of this.jobs.values()) {
      if (job.finishedAt === null) continue;
      if (job.finishedAt < cutoff) this.jobs.delete(job.id);
      else finished.push(job);
    }
    if (finished.length > this.maxFinished) {
      finished.sort((a, b) => (a.finishedAt as number) - (b.finishedAt as number));
      for (const job of finished.slice(0, finished.length - this.maxFinished)) this.jobs.delete(job.id);
    }
  }

  private view(job: Job): JobView {
    let percent: number | null = null;
    if (job.state === 'succeeded') percent = 100;
    else if (job.total > 0) percent = Math.round((job.completed / job.total) * 1000) / 10;
    return {
      job_id: job.id,
      kind: job.kind,
      host: job.host,
      model: job.model,
      state: job.state,
      status: job.status,
      completed_bytes: job.completed,
      total_bytes: job.total,
      percent,
      error: job.error,
      started_at: new Date(job.startedAt).toISOString(),
      finished_at: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    };
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof AppError) return err.message;
  // Anything else is a bug of ours, not Ollama's words; its text may hold internals.
  return 'The job failed unexpectedly inside the server; try again, and report it if it keeps happening.';
}
