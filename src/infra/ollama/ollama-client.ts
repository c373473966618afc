import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse, Method } from 'axios';
import { AppError } from '../../common/errors.js';
import { tunnelAgent, withConnectTimeout, type OllamaTunnel } from './ollama-agents.js';
import {
  errorCode,
  httpStatusError,
  OllamaAbortError,
  quoteSnippet,
  streamEndedEarly,
  streamIdleTimeout,
  streamReportedError,
  transportError,
  unexpectedAnswer,
  type OllamaCall,
  type OllamaTarget,
} from './ollama-errors.js';
import type {
  OllamaCreateRequest,
  OllamaGenerateResponse,
  OllamaProgress,
  OllamaPsResponse,
  OllamaShowResponse,
  OllamaTagsResponse,
  OllamaVersionResponse,
} from './ollama-wire-types.js';
import { NdjsonLineError, readNdjson } from './ndjson.js';

/*
 * Axios client for the Ollama REST API. test/support/fake-ollama.ts reproduces the protocol it relies on,
 * and test/fixtures/ollama holds captured answers of real servers.
 *
 * Every method returns Ollama's own JSON (ollama-wire-types.ts) or rejects with an AppError whose message
 * names the Ollama URL and says what to do (ollama-errors.ts). Raw axios errors never escape: they carry
 * the request config and headers.
 *
 * Model names only ever travel in JSON bodies, never in a URL.
 *
 * Kept as one file past 300 lines: it is one class, and its two ways of calling (one JSON answer, a
 * progress stream) share the agents, the resend over a stale keep-alive socket and the abort reasons that
 * tell a caller's cancel from our own timeouts; the types, the error wording and the agents live apart.
 */

export interface OllamaClientOptions {
  /** e.g. `http://10.0.1.201:11434`; a trailing slash is ignored. */
  baseUrl: string;
  /** Configured host name, used in messages ("host 'whisper'"). */
  hostName?: string;
  /** Bound on establishing the TCP connection (including DNS). Default 5000. */
  connectTimeoutMs?: number;
  /** Bound on a whole non-streaming call, from sending to the last byte. Default 30000. */
  requestTimeoutMs?: number;
  /** Longest silence allowed in a stream: before the first byte and between chunks. Default 60000. */
  idleTimeoutMs?: number;
  /** Largest non-streaming answer accepted. Default 64 MiB (a verbose `show` can be large). */
  maxResponseBytes?: number;
  /**
   * Reach Ollama through this instead of a TCP connection from the server: for an ssh host, a forwarded
   * channel on its SSH connection, so baseUrl is the address as the SSH host sees it and Ollama can stay
   * on that host's loopback. http:// only (the SSH connection already encrypts).
   */
  tunnel?: OllamaTunnel;
}

export interface OllamaStreamOptions {
  /** Aborting destroys the HTTP connection, which makes Ollama stop the download or creation. */
  signal?: AbortSignal;
  /** Called for every progress line, in order. If it throws, the stream is closed and the error rethrown. */
  onProgress?: (progress: OllamaProgress) => void;
}

export interface OllamaPullOptions extends OllamaStreamOptions {
  /** Allow an `http://` or self-signed registry. */
  insecure?: boolean;
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Reasons we abort our own requests with, to tell a timeout from the caller's cancel afterwards. */
const USER_ABORT = Symbol('user-abort');
const REQUEST_TIMEOUT = Symbol('request-timeout');
const IDLE_TIMEOUT = Symbol('idle-timeout');

/** Carries an exception thrown by the caller's onProgress past our error mapping, unchanged. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

interface CallContext extends OllamaCall {
  method: Method;
}

export class OllamaClient {
  readonly baseUrl: string;
  readonly hostName: string | undefined;
  /** The address, the SSH connection and the bounds, as error messages name them. */
  private readonly target: OllamaTarget;
  private readonly maxResponseBytes: number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** Created on first use: loading axios costs ~100 ms of start-up that a server without Ollama calls never needs. */
  private axiosInstance?: Promise<AxiosInstance>;

  constructor(options: OllamaClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`Ollama base URL '${options.baseUrl}' is not a URL (expected e.g. http://127.0.0.1:11434)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`Ollama base URL '${options.baseUrl}' must start with http:// or https://`);
    }
    if (options.tunnel && url.protocol !== 'http:') {
      throw new TypeError(`Ollama base URL '${options.baseUrl}' must start with http:// when reached through SSH`);
    }
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.hostName = options.hostName;
    this.target = {
      baseUrl: this.baseUrl,
      hostName: options.hostName,
      tunnelVia: options.tunnel?.via,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30000,
      idleTimeoutMs: options.idleTimeoutMs ?? 60000,
    };
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;

    this.httpAgent = options.tunnel
      ? tunnelAgent(options.tunnel, this.target.connectTimeoutMs)
      : withConnectTimeout(new http.Agent({ keepAlive: true }), this.target.connectTimeoutMs);
    this.httpsAgent = withConnectTimeout(new https.Agent({ keepAlive: true }), this.target.connectTimeoutMs);
  }

  private http(): Promise<AxiosInstance> {
    this.axiosInstance ??= import('axios').then(({ default: axios }) =>
      axios.create({
        baseURL: this.baseUrl,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        // Ollama sits on the LAN: an HTTP(S)_PROXY meant for the internet must not capture it, and native
        // transport (no follow-redirects) is what makes socket destruction on abort reliable.
        proxy: false,
        maxRedirects: 0,
        headers: { Accept: 'application/json', 'User-Agent': 'gpu-host-tools (ollama client)' },
        // Every status is handled here so that no axios error (with config and headers) is ever thrown.
        validateStatus: () => true,
      }),
    );
    return this.axiosInstance;
  }

  /** `GET /api/version` → `{version}`. */
  async version(): Promise<OllamaVersionResponse> {
    const data = await this.json<OllamaVersionResponse>({ method: 'GET', path: '/api/version', action: 'the version query' });
    if (!data || typeof data.version !== 'string') throw unexpectedAnswer(this.target, '/api/version', 'no version field');
    return data;
  }

  /** `GET /api/tags` → local models, newest first. */
  async tags(): Promise<OllamaTagsResponse> {
    const data = await this.json<OllamaTagsResponse>({ method: 'GET', path: '/api/tags', action: 'the model list' });
    if (!data || !Array.isArray(data.models)) throw unexpectedAnswer(this.target, '/api/tags', 'no models array');
    return data;
  }

  /** `POST /api/show {model}`; 404 → MODEL_NOT_FOUND. */
  async show(model: string, options: { verbose?: boolean } = {}): Promise<OllamaShowResponse> {
    const body: Record<string, unknown> = { model };
    if (options.verbose) body.verbose = true;
    const data = await this.json<OllamaShowResponse>({ method: 'POST', path: '/api/show', action: `the request to show '${model}'` }, body);
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw unexpectedAnswer(this.target, '/api/show', 'not a JSON object');
    return data;
  }

  /** `GET /api/ps` → models loaded in memory. */
  async ps(): Promise<OllamaPsResponse> {
    const data = await this.json<OllamaPsResponse>({ method: 'GET', path: '/api/ps', action: 'the running-model list' });
    if (!data || !Array.isArray(data.models)) throw unexpectedAnswer(this.target, '/api/ps', 'no models array');
    return data;
  }

  /** `POST /api/copy {source, destination}`; Ollama answers 200 with an empty body. */
  async copy(source: string, destination: string): Promise<void> {
    await this.json(
      { method: 'POST', path: '/api/copy', action: `the copy of '${source}' to '${destination}'` },
      { source, destination },
      { emptyOk: true },
    );
  }

  /** `DELETE /api/delete {model}` (DELETE with a JSON body); 200 with an empty body. */
  async delete(model: string): Promise<void> {
    await this.json({ method: 'DELETE', path: '/api/delete', action: `the deletion of '${model}'` }, { model }, { emptyOk: true });
  }

  /**
   * Frees the model's memory: `POST /api/generate {model, keep_alive: 0}`. Asynchronous on Ollama's side,
   * so `ps()` may list the model for a moment longer. `stream: false` makes servers older than 0.3.11
   * (which had no unload and streamed a load instead) answer with one JSON object too.
   */
  async unload(model: string): Promise<OllamaGenerateResponse> {
    const data = await this.json<OllamaGenerateResponse>(
      { method: 'POST', path: '/api/generate', action: `the unload of '${model}'` },
      { model, keep_alive: 0, stream: false },
    );
    if (!data || typeof data !== 'object') throw unexpectedAnswer(this.target, '/api/generate', 'not a JSON object');
    return data;
  }

  /**
   * `POST /api/pull {model, stream: true}`: reports every progress line and resolves with the final
   * `{"status":"success"}` line. Rejects with OLLAMA_ERROR when Ollama reports an error in the stream
   * (e.g. `pull model manifest: file does not exist`) or the stream ends early, OLLAMA_TIMEOUT after
   * `idleTimeoutMs` of silence, OllamaAbortError when `signal` aborts. A cancelled pull resumes later.
   */
  async pull(model: string, options: OllamaPullOptions = {}): Promise<OllamaProgress> {
    const body: Record<string, unknown> = { model, stream: true };
    if (options.insecure) body.insecure = true;
    return this.stream({ method: 'POST', path: '/api/pull', action: `the pull of '${model}'` }, body, options);
  }

  /** `POST /api/create` with the structured body; streams like `pull`. */
  async create(body: OllamaCreateRequest, options: OllamaStreamOptions = {}): Promise<OllamaProgress> {
    return this.stream(
      { method: 'POST', path: '/api/create', action: `the creation of '${body.model}'` },
      { ...body, stream: true },
      options,
    );
  }

  /** Closes idle keep-alive sockets. The client stays usable (new sockets are opened on demand). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  // -------------------------------------------------------------------------------------------------

  private async json<T>(ctx: CallContext, body?: unknown, opts: { emptyOk?: boolean } = {}): Promise<T | undefined> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(REQUEST_TIMEOUT), this.target.requestTimeoutMs);
    let response: AxiosResponse<ArrayBuffer>;
    try {
      response = await this.send<ArrayBuffer>({
        method: ctx.method,
        url: ctx.path,
        data: body,
        signal: controller.signal,
        responseType: 'arraybuffer',
        maxContentLength: this.maxResponseBytes,
        transformResponse: [(data: unknown) => data],
      });
    } catch (err) {
      throw transportError(this.target, err, ctx, {
        requestTimedOut: controller.signal.aborted && controller.signal.reason === REQUEST_TIMEOUT,
        midStream: false,
      });
    } finally {
      clearTimeout(timer);
    }
    const text = Buffer.from(response.data ?? new ArrayBuffer(0)).toString('utf8');
    if (response.status < 200 || response.status >= 300) throw httpStatusError(this.target, response.status, text, ctx);
    if (text.trim() === '') {
      if (opts.emptyOk) return undefined;
      throw unexpectedAnswer(this.target, ctx.path, 'an empty body');
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw unexpectedAnswer(this.target, ctx.path, `something that is not JSON: ${quoteSnippet(text)}`);
    }
  }

  private async stream(ctx: CallContext, body: unknown, options: OllamaStreamOptions): Promise<OllamaProgress> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new OllamaAbortError();

    const controller = new AbortController();
    const onUserAbort = () => controller.abort(USER_ABORT);
    signal?.addEventListener('abort', onUserAbort, { once: true });
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller.abort(IDLE_TIMEOUT), this.target.idleTimeoutMs);
    };
    let gotResponse = false;
    let lastStatus: string | undefined;
    let stream: Readable | undefined;
    let request: http.ClientRequest | undefined;

    try {
      armIdle();
      const response = await this.send<Readable>({
        method: ctx.method,
        url: ctx.path,
        data: body,
        signal: controller.signal,
        responseType: 'stream',
        headers: { Accept: 'application/x-ndjson, application/json' },
      });
      gotResponse = true;
      stream = response.data;
      request = response.request as http.ClientRequest | undefined;
      armIdle();

      if (response.status !== 200) {
        const text = await readCapped(stream, MAX_ERROR_BODY_BYTES, armIdle);
        throw httpStatusError(this.target, response.status, text, ctx);
      }

      for await (const line of readNdjson(stream, { onChunk: armIdle })) {
        if (!line || typeof line !== 'object' || Array.isArray(line)) {
          throw unexpectedAnswer(this.target, ctx.path, `a stream line that is not a JSON object: ${quoteSnippet(JSON.stringify(line))}`);
        }
        const record = line as Record<string, unknown>;
        if (record.error !== undefined) throw streamReportedError(this.target, ctx, record.error);
        if (typeof record.status !== 'string') continue;
        const progress = toProgress(record);
        lastStatus = progress.status;
        try {
          onProgress?.(progress);
        } catch (callbackError) {
          throw new CallbackFailure(callbackError);
        }
        if (progress.status === 'success') return progress;
      }
      throw streamEndedEarly(this.target, ctx, lastStatus);
    } catch (err) {
      if (err instanceof CallbackFailure) throw err.error;
      const reason: unknown = controller.signal.reason;
      if (controller.signal.aborted && reason === USER_ABORT) throw new OllamaAbortError();
      if (controller.signal.aborted && reason === IDLE_TIMEOUT) throw streamIdleTimeout(this.target, ctx, gotResponse, lastStatus);
      if (err instanceof AppError) throw err;
      if (err instanceof NdjsonLineError) {
        throw unexpectedAnswer(this.target, ctx.path, `a stream line that is not JSON: ${quoteSnippet(err.snippet)}`);
      }
      throw transportError(this.target, err, ctx, { requestTimedOut: false, midStream: gotResponse, request });
    } finally {
      clearTimeout(idleTimer);
      signal?.removeEventListener('abort', onUserAbort);
      // Ending early (success line seen, error, abort) must close the connection: for a pull in flight
      // that is what tells Ollama to stop downloading.
      if (stream && !stream.readableEnded) {
        stream.destroy();
        if (request && !request.destroyed) request.destroy();
      }
    }
  }

  /**
   * Sends a request, once more when a pooled keep-alive connection turned out to be closed already (the
   * server, or sshd for a tunnel, closed it while idle and the close crossed our request: Node's
   * `request.reusedSocket` case). Nothing reached Ollama then, so sending again is safe.
   */
  private async send<T>(config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
    const client = await this.http();
    try {
      return await client.request<T>(config);
    } catch (err) {
      const e = err as { request?: { reusedSocket?: boolean }; response?: unknown };
      const reset = ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'].includes(errorCode(err) ?? '');
      if (!reset || !e.request?.reusedSocket || e.response !== undefined || config.signal?.aborted) throw err;
      return client.request<T>(config);
    }
  }
}

function toProgress(record: Record<string, unknown>): OllamaProgress {
  const progress: OllamaProgress = { status: record.status as string };
  if (typeof record.digest === 'string') progress.digest = record.digest;
  if (typeof record.total === 'number') progress.total = record.total;
  if (typeof record.completed === 'number') progress.completed = record.completed;
  return progress;
}

async function readCapped(stream: Readable, maxBytes: number, onChunk: () => void): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    onChunk();
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buf);
    size += buf.length;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
