/**
 * Turns what the HTTP connection to Ollama reports (socket and tunnel failures, HTTP statuses, Ollama's
 * `{"error": "..."}` bodies and stream lines, our own timeouts) into the project's AppErrors. The messages
 * are read by a person or a model in a chat window: one sentence naming the Ollama address (and the SSH
 * connection it goes through) and what to do; never a stack trace, and nothing of axios' request config or
 * headers.
 *
 * Kept whole past 300 lines: it is one table from "what failed" to "which code, and what to do", and the
 * messages of one family (refused, timed out, cut off) are worded alike only when they sit together.
 */
import type http from 'node:http';
import { AppError } from '../../common/errors.js';
import { clip, formatSeconds } from '../../common/text.js';
import { ForwardError } from '../ssh/ssh-errors.js';

/** The Ollama a client talks to, as messages name it, and the bounds they quote. */
export interface OllamaTarget {
  baseUrl: string;
  /** Configured host name ("host 'whisper'"). */
  hostName?: string;
  /** The SSH connection a tunnel goes through, "user@host:port". */
  tunnelVia?: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
}

/** One call, for messages. */
export interface OllamaCall {
  method: string;
  path: string;
  /** "the pull of 'gemma:2b'". */
  action: string;
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

const CONNECT_TIMEOUT_CODE = 'OLLAMA_CONNECT_TIMEOUT';

/** What a socket is destroyed with when it did not connect in time (see the agents). */
export class ConnectTimeoutError extends Error {
  readonly code = CONNECT_TIMEOUT_CODE;
}

/** "Ollama at http://127.0.0.1:11434 (host 'whisper', through SSH to ccpm@10.0.1.201:22)". */
export function describeTarget(t: OllamaTarget): string {
  const where = [t.hostName && `host '${t.hostName}'`, t.tunnelVia && `through SSH to ${t.tunnelVia}`].filter(Boolean);
  return `Ollama at ${t.baseUrl}${where.length ? ` (${where.join(', ')})` : ''}`;
}

/** Something answered, but not the way Ollama does. */
export function unexpectedAnswer(t: OllamaTarget, path: string, what: string): AppError {
  return new AppError(
    502,
    'OLLAMA_ERROR',
    `${describeTarget(t)} answered ${path} with ${what}; check that the URL points at Ollama itself (not a proxy or another service).`,
  );
}

/** A non-2xx answer. Ollama's own 404 (`{"error": "model 'x' not found"}`) is the caller's MODEL_NOT_FOUND. */
export function httpStatusError(t: OllamaTarget, status: number, bodyText: string, call: OllamaCall): AppError {
  const ollamaText = jsonErrorText(bodyText);
  const text = ollamaText ?? (bodyText.trim() === '' ? 'an empty body' : quoteSnippet(bodyText));
  if (status === 404 && ollamaText !== undefined) {
    return new AppError(
      404,
      'MODEL_NOT_FOUND',
      `${ollamaText} on ${describeTarget(t)}; check the exact name against the local model list, or pull the model first.`,
    );
  }
  if (status === 400) return new AppError(400, 'VALIDATION_FAILED', `Ollama rejected the request: ${text}`);
  // gin's plain-text 404/405: the path or method is not Ollama's (a proxy, another service, an old version).
  if (status === 404 || status === 405) {
    return new AppError(
      502,
      'OLLAMA_ERROR',
      `${describeTarget(t)} answered HTTP ${status} to ${call.method} ${call.path} (${text}); check that the URL points at ` +
        'Ollama itself (not a proxy or another service) and that this Ollama version supports the call.',
    );
  }
  return new AppError(
    502,
    'OLLAMA_ERROR',
    `${describeTarget(t)} answered ${call.action} with HTTP ${status}: ${text}${ollamaText ? hintFor(ollamaText) : ''}`,
  );
}

/** The `{"error": ...}` line Ollama appends to a stream that already sent progress (the status stays 200). */
export function streamReportedError(t: OllamaTarget, call: OllamaCall, error: unknown): AppError {
  const text = typeof error === 'string' ? error : quoteSnippet(JSON.stringify(error) ?? String(error));
  return new AppError(502, 'OLLAMA_ERROR', `${describeTarget(t)} reported an error during ${call.action}: ${text}${hintFor(text)}`);
}

export function streamEndedEarly(t: OllamaTarget, call: OllamaCall, lastStatus: string | undefined): AppError {
  return new AppError(
    502,
    'OLLAMA_ERROR',
    `${describeTarget(t)} ended ${call.action} without reporting success` +
      (lastStatus ? ` (last status: '${lastStatus}')` : ' (no progress line at all)') +
      '; the connection was probably interrupted or Ollama restarted. Try again: a pull resumes where it stopped.',
  );
}

/** No byte for idleTimeoutMs: before the answer's head (`gotResponse` false) or inside the stream. */
export function streamIdleTimeout(t: OllamaTarget, call: OllamaCall, gotResponse: boolean, lastStatus: string | undefined): AppError {
  const seconds = formatSeconds(t.idleTimeoutMs);
  return new AppError(
    504,
    'OLLAMA_TIMEOUT',
    gotResponse
      ? `${describeTarget(t)} sent nothing for ${seconds} during ${call.action}` +
          (lastStatus ? ` (last status: '${lastStatus}')` : '') +
          '; it may be stuck. Check the Ollama log on the host and try again (a pull resumes where it stopped).'
      : `${describeTarget(t)} accepted the connection but did not answer ${call.action} within ${seconds}; ` +
          'it may be busy or stuck. Try again, and check the Ollama log on the host if it persists.',
  );
}

export interface TransportFailure {
  /** Our whole-call timer (requestTimeoutMs) aborted the request. */
  requestTimedOut: boolean;
  /** The answer had begun: the failure cut a stream short. */
  midStream: boolean;
  /** The request, whose socket may hold the real reason when a tunnel failed mid-response. */
  request?: http.ClientRequest;
}

/** A failure below HTTP: the connection, the SSH tunnel, or our request timer. */
export function transportError(t: OllamaTarget, err: unknown, call: OllamaCall, failure: TransportFailure): AppError {
  const target = describeTarget(t);
  const { midStream } = failure;
  if (failure.requestTimedOut) {
    return new AppError(
      504,
      'OLLAMA_TIMEOUT',
      `${target} accepted the connection but did not answer ${call.action} within ${formatSeconds(t.requestTimeoutMs)}; ` +
        'it may be busy (loading a model) or stuck. Try again, and check the Ollama log on the host if it persists.',
    );
  }
  // The SSH connection itself failed (refused, auth, host key, timeout): its message says what to do.
  const ssh = findInChain(err, (e): e is AppError => e instanceof AppError);
  if (ssh) return new AppError(ssh.status, ssh.code, `${target} cannot be reached because SSH failed: ${ssh.message}`);
  // A tunnel that failed mid-response ends the response with a plain "aborted"; why is on the socket.
  const isForward = (e: unknown): e is ForwardError => e instanceof ForwardError;
  const socketError = (failure.request ?? (err as { request?: http.ClientRequest }).request)?.socket?.errored;
  const forward = findInChain(err, isForward) ?? findInChain(socketError, isForward);
  const code = forward?.code ?? errorCode(err);
  const url = new URL(t.baseUrl);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  // Node's HTTP parser (HPE_*): something answered, but not in HTTP.
  if (code?.startsWith('HPE_')) {
    return unexpectedAnswer(t, call.path, `something that is not HTTP (${code})`);
  }
  switch (code) {
    case 'SSH_FORWARD_PROHIBITED':
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        `${target} cannot be reached: ${forward?.message ?? 'sshd refused to forward the connection'}. ` +
          'Allow it in /etc/ssh/sshd_config on the host with `AllowTcpForwarding local` (or yes; a Match User block limits it ' +
          `to this account), make sure no PermitOpen, DisableForwarding or no-port-forwarding key option excludes ${url.hostname}:${port}, ` +
          'and reload sshd; or set OLLAMA_TUNNEL=false (ollama.tunnel: false) to reach Ollama over the network instead.',
      );
    case 'SSH_FORWARD_TIMEOUT':
      return new AppError(
        504,
        'OLLAMA_TIMEOUT',
        `${target} cannot be reached: ${forward?.message ?? 'the forwarded connection did not open'}; ` +
          'the SSH connection may be stalled or the host overloaded. Try again.',
      );
    case 'SSH_CONNECTION_DROPPED':
      return new AppError(
        503,
        'HOST_UNREACHABLE',
        `${target}: the SSH connection dropped ${midStream ? `in the middle of ${call.action}` : `during ${call.action}`}; ` +
          'it is re-opened on the next call, so try again (a pull resumes where it stopped).',
      );
    case 'SSH_FORWARD_FAILED':
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        `${target} cannot be reached: ${forward?.message ?? 'the forwarded connection failed'}; check that ollama is running on the host and the URL is right.`,
      );
    case CONNECT_TIMEOUT_CODE:
    case 'ETIMEDOUT':
      return new AppError(
        504,
        'OLLAMA_TIMEOUT',
        `${target} did not accept a connection within ${formatSeconds(t.connectTimeoutMs)}; ` +
          `check that the host is up and that no firewall drops port ${port}.`,
      );
    case 'ECONNREFUSED':
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        t.tunnelVia
          ? `${target} refused the connection on the host; check that ollama is running there (systemctl status ollama) ` +
              `and that the Ollama URL is the address it listens on as the host sees it (Ollama's default: 127.0.0.1:11434).`
          : `${target} refused the connection; check that ollama is running and listening on that address (OLLAMA_HOST=0.0.0.0).`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        `${target} cannot be reached: the name '${url.hostname}' does not resolve (DNS); check the Ollama URL in the configuration.`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        `${target} cannot be reached (no route to the host); check that the host is up and the network between the two machines.`,
      );
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        `${target} closed the connection ${midStream ? `in the middle of ${call.action}` : 'unexpectedly'}; ` +
          'check that ollama is still running (it may have restarted or crashed) and try again.',
      );
    case 'ERR_BAD_RESPONSE':
      return new AppError(
        502,
        'OLLAMA_ERROR',
        `${target} sent an answer to ${call.path} that could not be read (too large or cut off); try again.`,
      );
    default:
      return new AppError(
        502,
        'OLLAMA_UNREACHABLE',
        `${target} could not be reached for ${call.action}${code ? ` (${code})` : ''}; check that ollama is running and the URL is right.`,
      );
  }
}

type ChainLink = { code?: unknown; cause?: unknown; errors?: unknown };

/**
 * Walks `err`, its `cause` chain and AggregateError members (dual-stack connects), depth first, cause
 * before members, five levels at most: `visit` sees each error with `below`, the first answer found
 * under it, so it can answer before, instead of or after looking deeper.
 */
function walkChain<T>(err: unknown, visit: (e: ChainLink, below: () => T | undefined) => T | undefined, depth = 0): T | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as ChainLink;
  return visit(e, () => {
    const fromCause = walkChain(e.cause, visit, depth + 1);
    if (fromCause) return fromCause;
    if (!Array.isArray(e.errors)) return undefined;
    for (const inner of e.errors) {
      const found = walkChain(inner, visit, depth + 1);
      if (found) return found;
    }
    return undefined;
  });
}

/** The first error in `err`'s cause chain (or AggregateError members) that matches. */
function findInChain<T>(err: unknown, match: (e: unknown) => e is T): T | undefined {
  return walkChain<T>(err, (e, below) => (match(e) ? e : below()));
}

/** axios' own codes say less than the socket error underneath. */
const VAGUE_CODES = new Set(['ERR_CANCELED', 'ECONNABORTED', 'ERR_NETWORK']);

/** Finds a Node/axios error code, looking through `cause` and AggregateError (dual-stack connects). */
export function errorCode(err: unknown): string | undefined {
  return walkChain<string>(err, (e, below) => {
    const own = typeof e.code === 'string' ? e.code : undefined;
    if (own && !VAGUE_CODES.has(own)) return own;
    return below() || own;
  });
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
