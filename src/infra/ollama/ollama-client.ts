import http from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse, Method } from 'axios';
import { AppError } from '../../common/errors.js';
import { ForwardError } from '../ssh/ssh-errors.js';
import { NdjsonLineError, readNdjson } from './ndjson.js';
import { clip, formatSeconds } from '../../common/text.js';

/*
 * Axios client for the Ollama REST API. test/support/fake-ollama.ts reproduces the protocol it relies on,
 * and test/fixtures/ollama holds captured answers of real servers.
 *
 * Every method returns Ollama's own JSON (typed below for the fields Ollama documents) or rejects with an
 * AppError whose message names the Ollama URL and says what to do. Raw axios errors never escape: they
 * carry the request config and headers.
 *
 * Model names only ever travel in JSON bodies, never in a URL.
 */

// ---------------------------------------------------------------------------------------------------
// Wire types (Ollama's JSON, snake_case as sent)
// ---------------------------------------------------------------------------------------------------

export interface OllamaModelDetails {
  parent_model: string;
  format: string;
  family: string;
  /** Very often `null` in real output. */
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
  /** Newer servers only. */
  context_length?: number;
  embedding_length?: number;
}

/** One entry of `GET /api/tags`. `name` and `model` are the same short display name. */
export interface OllamaListModel {
  name: string;
  model: string;
  /** RFC 3339 with nanoseconds and the server's offset. */
  modified_at: string;
  size: number;
  /** sha256 hex of the manifest, without a `sha256:` prefix. */
  digest: string;
  details: OllamaModelDetails;
  capabilities?: string[];
  /** Cloud stubs (`glm-5.3:cloud`) only. */
  remote_model?: string;
  remote_host?: string;
}

export interface OllamaTagsResponse {
  models: OllamaListModel[];
}

/** One entry of `GET /api/ps`. `size_vram < size` means partly on the CPU. */
export interface OllamaRunningModel {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: OllamaModelDetails;
  expires_at: string;
  size_vram: number;
  /** Since 2025. */
  context_length?: number;
}

export interface OllamaPsResponse {
  models: OllamaRunningModel[];
}

export interface OllamaVersionResponse {
  version: string;
}

export interface OllamaMessage {
  role: string;
  content: string;
}

/** `POST /api/show`. Everything is optional on the wire except what the model has. */
export interface OllamaShowResponse {
  license?: string;
  modelfile?: string;
  /** Newline-separated `key<padding>value` text, not JSON. */
  parameters?: string;
  template?: string;
  system?: string;
  details?: OllamaModelDetails;
  messages?: OllamaMessage[];
  model_info?: Record<string, unknown>;
  projector_info?: Record<string, unknown>;
  capabilities?: string[];
  modified_at?: string;
  renderer?: string;
  parser?: string;
  remote_model?: string;
  remote_host?: string;
  requires?: string;
}

/** The single JSON answer of an unload (`POST /api/generate` with `keep_alive: 0`). */
export interface OllamaGenerateResponse {
  model: string;
  created_at: string;
  response: string;
  done: boolean;
  /** `unload` since Ollama 0.3.11; older servers answer `load`. */
  done_reason?: string;
}

/** One line of a pull or create stream. `digest`, `total` and `completed` are omitted while empty or 0. */
export interface OllamaProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export type OllamaParameterValue = number | boolean | string | string[];

/**
 * The structured `/api/create` body of Ollama >= 0.5.5 (the old `modelfile` field is silently ignored by
 * those servers). Exactly one of `from` (an existing model name) or `files` (file name -> `sha256:<hex>` of
 * blobs already on the Ollama host) is required.
 */
export interface OllamaCreateRequest {
  model: string;
  from?: string;
  files?: Record<string, string>;
  adapters?: Record<string, string>;
  /** Speculative-decoding draft model blobs (newer servers). */
  draft_files?: Record<string, string>;
  template?: string;
  system?: string;
  license?: string | string[];
  parameters?: Record<string, OllamaParameterValue>;
  messages?: OllamaMessage[];
  quantize?: string;
  renderer?: string;
  parser?: string;
  requires?: string;
}

// ---------------------------------------------------------------------------------------------------
// Options and errors
// ---------------------------------------------------------------------------------------------------

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

export interface OllamaTunnel {
  /** The SSH connection, "user@host:port", for messages. */
  via: string;
  /** A connected stream to host:port as the SSH host sees them; `timeoutMs` bounds opening it. */
  open(host: string, port: number, options: { timeoutMs: number }): Promise<Duplex>;
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

/**
 * Rejection of pull/create when the caller's signal aborted. Deliberately not an AppError: a cancel is the
 * caller's own decision (the job becomes `cancelled`), not a failure to report.
 */
export class OllamaAbortError extends Error {
  constructor(message = 'The Ollama request was cancelled.') {
    super(message);
    this.name = 'AbortError';
  }
}

export function isOllamaAbortError(err: unknown): err is OllamaAbortError {
  return err instanceof OllamaAbortError;
}

// ---------------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------------

const CONNECT_TIMEOUT_CODE = 'OLLAMA_CONNECT_TIMEOUT';
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Reasons we abort our own requests with, to tell a timeout from the caller's cancel afterwards. */
const USER_ABORT = Symbol('user-abort');
const REQUEST_TIMEOUT = Symbol('request-timeout');
const IDLE_TIMEOUT = Symbol('idle-timeout');

class ConnectTimeoutError extends Error {
  readonly code = CONNECT_TIMEOUT_CODE;
}

/** Carries an exception thrown by the caller's onProgress past our error mapping, unchanged. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Node's agents have no connect timeout (a socket timeout only starts once connected, and axios' own
 * timeout cannot tell "no TCP connection" from "no answer"). This agent destroys a socket that has not
 * connected in time with an error we can recognise. Reused keep-alive sockets skip this entirely.
 */
function withConnectTimeout<T extends http.Agent>(agent: T, timeoutMs: number): T {
  const original = agent.createConnection.bind(agent) as (
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ) => Duplex | null | undefined;
  agent.createConnection = (options, callback) => {
    const socket = original(options, callback);
    if (socket) {
      const timer = setTimeout(() => {
        socket.destroy(new ConnectTimeoutError(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    }
    return socket;
  };
  return agent;
}

/**
 * A keep-alive agent whose connections are the tunnel's streams: one forwarded channel per HTTP
 * connection, pooled and reused like sockets. The Agent accepts a connection handed to
 * createConnection's callback later instead of returned at once.
 */
function tunnelAgent(tunnel: OllamaTunnel, timeoutMs: number): http.Agent {
  const agent = new http.Agent({ keepAlive: true });
  agent.createConnection = ((options: http.ClientRequestArgs, callback: (err: Error | null, stream?: Duplex) => void) => {
    const host = (options.hostname ?? options.host ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
    tunnel.open(host, Number(options.port) || 80, { timeoutMs }).then(
      (stream) => callback(null, stream),
      (err: Error) => callback(err),
    );
    return undefined;
  }) as unknown as http.Agent['createConnection'];
  return agent;
}

interface CallContext {
  method: Method;
  path: string;
  /** For messages: "the pull of 'gemma:2b'". */
  action: string;
}

export class OllamaClient {
  readonly baseUrl: string;
  readonly hostName: string | undefined;
  private readonly tunnelVia: string | undefined;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly idleTimeoutMs: number;
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
    this.tunnelVia = options.tunnel?.via;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;

    this.httpAgent = options.tunnel
      ? tunnelAgent(options.tunnel, this.connectTimeoutMs)
      : withConnectTimeout(new http.Agent({ keepAlive: true }), this.connectTimeoutMs);
    this.httpsAgent = withConnectTimeout(new https.Agent({ keepAlive: true }), this.connectTimeoutMs);
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
    if (!data || typeof data.version !== 'string') throw this.unexpected('/api/version', 'no version field');
    return data;
  }

  /** `GET /api/tags` → local models, newest first. */
  async tags(): Promise<OllamaTagsResponse> {
    const data = await this.json<OllamaTagsResponse>({ method: 'GET', path: '/api/tags', action: 'the model list' });
    if (!data || !Array.isArray(data.models)) throw this.unexpected('/api/tags', 'no models array');
    return data;
  }

  /** `POST /api/show {model}`; 404 → MODEL_NOT_FOUND. */
  async show(model: string, options: { verbose?: boolean } = {}): Promise<OllamaShowResponse> {
    const body: Record<string, unknown> = { model };
    if (options.verbose) body.verbose = true;
    const data = await this.json<OllamaShowResponse>({ method: 'POST', path: '/api/show', action: `the request to show '${model}'` }, body);
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw this.unexpected('/api/show', 'not a JSON object');
    return data;
  }

  /** `GET /api/ps` → models loaded in memory. */
  async ps(): Promise<OllamaPsResponse> {
    const data = await this.json<OllamaPsResponse>({ method: 'GET', path: '/api/ps', action: 'the running-model list' });
    if (!data || !Array.isArray(data.models)) throw this.unexpected('/api/ps', 'no models array');
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
    if (!data || typeof data !== 'object') throw this.unexpected('/api/generate', 'not a JSON object');
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
    const timer = setTimeout(() => controller.abort(REQUEST_TIMEOUT), this.requestTimeoutMs);
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
      throw this.transportError(err, ctx, controller.signal, false);
    } finally {
      clearTimeout(timer);
    }
    const text = Buffer.from(response.data ?? new ArrayBuffer(0)).toString('utf8');
    if (response.status < 200 || response.status >= 300) throw this.httpError(response.status, text, ctx);
    if (text.trim() === '') {
      if (opts.emptyOk) return undefined;
      throw this.unexpected(ctx.path, 'an empty body');
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.unexpected(ctx.path, `something that is not JSON: ${quoteSnippet(text)}`);
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
      idleTimer = setTimeout(() => controller.abort(IDLE_TIMEOUT), this.idleTimeoutMs);
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
        throw this.httpError(response.status, text, ctx);
      }

      for await (const line of readNdjson(stream, { onChunk: armIdle })) {
        if (!line || typeof line !== 'object' || Array.isArray(line)) {
          throw this.unexpected(ctx.path, `a stream line that is not a JSON object: ${quoteSnippet(JSON.stringify(line))}`);
        }
        const record = line as Record<string, unknown>;
        if (record.error !== undefined) {
          throw new AppError(
            502,
            'OLLAMA_ERROR',
            `${this.target()} reported an error during ${ctx.action}: ${errorText(record.error)}${hintFor(errorText(record.error))}`,
          );
        }
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
      throw new AppError(
        502,
        'OLLAMA_ERROR',
        `${this.target()} ended ${ctx.action} without reporting success` +
          (lastStatus ? ` (last status: '${lastStatus}')` : ' (no progress line at all)') +
          '; the connection was probably interrupted or Ollama restarted. Try again: a pull resumes where it stopped.',
      );
    } catch (err) {
      if (err instanceof CallbackFailure) throw err.error;
      const reason: unknown = controller.signal.reason;
      if (controller.signal.aborted && reason === USER_ABORT) throw new OllamaAbortError();
      if (controller.signal.aborted && reason === IDLE_TIMEOUT) {
        const seconds = formatSeconds(this.idleTimeoutMs);
        throw new AppError(
          504,
          'OLLAMA_TIMEOUT',
          gotResponse
            ? `${this.target()} sent nothing for ${seconds} during ${ctx.action}` +
                (lastStatus ? ` (last status: '${lastStatus}')` : '') +
                '; it may be stuck. Check the Ollama log on the host and try again (a pull resumes where it stopped).'
            : `${this.target()} accepted the connection but did not answer ${ctx.action} within ${seconds}; ` +
                'it may be busy or stuck. Try again, and check the Ollama log on the host if it persists.',
        );
      }
      if (err instanceof AppError) throw err;
      if (err instanceof NdjsonLineError) {
        throw this.unexpected(ctx.path, `a stream line that is not JSON: ${quoteSnippet(err.snippet)}`);
      }
      throw this.transportError(err, ctx, controller.signal, gotResponse, request);
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

  private target(): string {
    const where = [this.hostName && `host '${this.hostName}'`, this.tunnelVia && `through SSH to ${this.tunnelVia}`].filter(Boolean);
    return `Ollama at ${this.baseUrl}${where.length ? ` (${where.join(', ')})` : ''}`;
  }

  private unexpected(path: string, what: string): AppError {
    return new AppError(
      502,
      'OLLAMA_ERROR',
      `${this.target()} answered ${path} with ${what}; check that the URL points at Ollama itself (not a proxy or another service).`,
    );
  }

  private httpError(status: number, bodyText: string, ctx: CallContext): AppError {
    const ollamaText = jsonErrorText(bodyText);
    const text = ollamaText ?? (bodyText.trim() === '' ? 'an empty body' : quoteSnippet(bodyText));
    if (status === 404 && ollamaText !== undefined) {
      return new AppError(
        404,
        'MODEL_NOT_FOUND',
        `${ollamaText} on ${this.target()}; check the exact name against the local model list, or pull the model first.`,
      );
    }
    if (status === 400) return new AppError(400, 'VALIDATION_FAILED', `Ollama rejected the request: ${text}`);
    if (status === 404 || status === 405) {
      return new AppError(
        502,
        'OLLAMA_ERROR',
        `${this.target()} answered HTTP ${status} to ${ctx.method} ${ctx.path} (${text}); check that the URL points at ` +
          'Ollama itself (not a proxy or another service) and that this Ollama version supports the call.',
      );
    }
    return new AppError(
      502,
      'OLLAMA_ERROR',
      `${this.target()} answered ${ctx.action} with HTTP ${status}: ${text}${ollamaText ? hintFor(ollamaText) : ''}`,
    );
  }

  private transportError(err: unknown, ctx: CallContext, signal: AbortSignal, midStream: boolean, request?: http.ClientRequest): AppError {
    if (signal.aborted && signal.reason === REQUEST_TIMEOUT) {
      return new AppError(
        504,
        'OLLAMA_TIMEOUT',
        `${this.target()} accepted the connection but did not answer ${ctx.action} within ${formatSeconds(this.requestTimeoutMs)}; ` +
          'it may be busy (loading a model) or stuck. Try again, and check the Ollama log on the host if it persists.',
      );
    }
    // The SSH connection itself failed (refused, auth, host key, timeout): its message says what to do.
    const ssh = findInChain(err, (e): e is AppError => e instanceof AppError);
    if (ssh) return new AppError(ssh.status, ssh.code, `${this.target()} cannot be reached because SSH failed: ${ssh.message}`);
    // A tunnel that failed mid-response ends the response with a plain "aborted"; why is on the socket.
    const isForward = (e: unknown): e is ForwardError => e instanceof ForwardError;
    const socketError = (request ?? (err as { request?: http.ClientRequest }).request)?.socket?.errored;
    const forward = findInChain(err, isForward) ?? findInChain(socketError, isForward);
    const code = forward?.code ?? errorCode(err);
    const port = new URL(this.baseUrl).port || (this.baseUrl.startsWith('https:') ? '443' : '80');
    const hostname = new URL(this.baseUrl).hostname;
    // Node's HTTP parser (HPE_*): something answered, but not in HTTP.
    if (code?.startsWith('HPE_')) {
      return this.unexpected(ctx.path, `something that is not HTTP (${code})`);
    }
    switch (code) {
      case 'SSH_FORWARD_PROHIBITED':
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          `${this.target()} cannot be reached: ${forward?.message ?? 'sshd refused to forward the connection'}. ` +
            'Allow it in /etc/ssh/sshd_config on the host with `AllowTcpForwarding local` (or yes; a Match User block limits it ' +
            `to this account), make sure no PermitOpen, DisableForwarding or no-port-forwarding key option excludes ${hostname}:${port}, ` +
            'and reload sshd; or set OLLAMA_TUNNEL=false (ollama.tunnel: false) to reach Ollama over the network instead.',
        );
      case 'SSH_FORWARD_TIMEOUT':
        return new AppError(
          504,
          'OLLAMA_TIMEOUT',
          `${this.target()} cannot be reached: ${forward?.message ?? 'the forwarded connection did not open'}; ` +
            'the SSH connection may be stalled or the host overloaded. Try again.',
        );
      case 'SSH_CONNECTION_DROPPED':
        return new AppError(
          503,
          'HOST_UNREACHABLE',
          `${this.target()}: the SSH connection dropped ${midStream ? `in the middle of ${ctx.action}` : `during ${ctx.action}`}; ` +
            'it is re-opened on the next call, so try again (a pull resumes where it stopped).',
        );
      case 'SSH_FORWARD_FAILED':
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          `${this.target()} cannot be reached: ${forward?.message ?? 'the forwarded connection failed'}; check that ollama is running on the host and the URL is right.`,
        );
      case CONNECT_TIMEOUT_CODE:
      case 'ETIMEDOUT':
        return new AppError(
          504,
          'OLLAMA_TIMEOUT',
          `${this.target()} did not accept a connection within ${formatSeconds(this.connectTimeoutMs)}; ` +
            `check that the host is up and that no firewall drops port ${port}.`,
        );
      case 'ECONNREFUSED':
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          this.tunnelVia
            ? `${this.target()} refused the connection on the host; check that ollama is running there (systemctl status ollama) ` +
                `and that the Ollama URL is the address it listens on as the host sees it (Ollama's default: 127.0.0.1:11434).`
            : `${this.target()} refused the connection; check that ollama is running and listening on that address (OLLAMA_HOST=0.0.0.0).`,
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_NONAME':
      case 'EAI_FAIL':
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          `${this.target()} cannot be reached: the name '${hostname}' does not resolve (DNS); check the Ollama URL in the configuration.`,
        );
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'EHOSTDOWN':
      case 'ENETDOWN':
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          `${this.target()} cannot be reached (no route to the host); check that the host is up and the network between the two machines.`,
        );
      case 'ECONNRESET':
      case 'EPIPE':
      case 'ERR_STREAM_PREMATURE_CLOSE':
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          `${this.target()} closed the connection ${midStream ? `in the middle of ${ctx.action}` : 'unexpectedly'}; ` +
            'check that ollama is still running (it may have restarted or crashed) and try again.',
        );
      case 'ERR_BAD_RESPONSE':
        return new AppError(
          502,
          'OLLAMA_ERROR',
          `${this.target()} sent an answer to ${ctx.path} that could not be read (too large or cut off); try again.`,
        );
      default:
        return new AppError(
          502,
          'OLLAMA_UNREACHABLE',
          `${this.target()} could not be reached for ${ctx.action}${code ? ` (${code})` : ''}; check that ollama is running and the URL is right.`,
        );
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/** The first error in `err`'s cause chain (or AggregateError members) that matches. */
function findInChain<T>(err: unknown, match: (e: unknown) => e is T, depth = 0): T | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  if (match(err)) return err;
  const e = err as { cause?: unknown; errors?: unknown };
  const fromCause = findInChain(e.cause, match, depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = findInChain(inner, match, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** Finds a Node/axios error code, looking through `cause` and AggregateError (dual-stack connects). */
function errorCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? e.code : undefined;
  // axios' own codes say less than the socket error underneath.
  if (own && own !== 'ERR_CANCELED' && own !== 'ECONNABORTED' && own !== 'ERR_NETWORK') return own;
  const fromCause = errorCode(e.cause, depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner, depth + 1);
      if (c) return c;
    }
  }
  return own;
}

function toProgress(record: Record<string, unknown>): OllamaProgress {
  const progress: OllamaProgress = { status: record.status as string };
  if (typeof record.digest === 'string') progress.digest = record.digest;
  if (typeof record.total === 'number') progress.total = record.total;
  if (typeof record.completed === 'number') progress.completed = record.completed;
  return progress;
}

function errorText(value: unknown): string {
  return typeof value === 'string' ? value : quoteSnippet(JSON.stringify(value) ?? String(value));
}

/** Ollama's `{"error":"..."}` text, or undefined when the body is not that shape. */
function jsonErrorText(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/** Advice for the errors Ollama reports most, so the reader knows what to do next. */
function hintFor(text: string): string {
  if (/file does not exist/i.test(text) && /manifest/i.test(text)) {
    return ' (the model or tag does not exist in the registry; check the exact name and tag on https://ollama.com/library)';
  }
  if (/unauthorized|access denied/i.test(text)) return ' (the registry refused access; check the name, or that the model is public)';
  if (/no space left/i.test(text)) return ' (the Ollama host is out of disk space; delete unused models first)';
  return '';
}

/**
 * The first 200 characters of an unexpected answer, made safe to embed in a one-line message: control
 * characters and runs of whitespace become one space, and the whole is JSON-quoted.
 */
export function quoteSnippet(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
  return JSON.stringify(clip(flat, 200));
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
