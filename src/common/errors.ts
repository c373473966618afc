import { HttpException, type Logger } from '@nestjs/common';
/**
 * The one error type the project throws for anything a user, a model or the network can cause.
 * The exception filter (REST) and the MCP tool runner turn it into the documented error shape:
 * {statusCode, error, code, message}. `message` is shown to a person or a model: one sentence that
 * says what happened and what to do. It must never contain a stack trace, key or password.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'PATH_OUTSIDE_ROOT'
  | 'PATH_PROTECTED'
  | 'COMMAND_DENIED'
  | 'HOST_NOT_ALLOWED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'HOST_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'FILE_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'CONFLICT'
  | 'TOO_LARGE'
  | 'OLLAMA_ERROR'
  | 'OLLAMA_UNREACHABLE'
  | 'OLLAMA_TIMEOUT'
  | 'HOST_UNREACHABLE'
  | 'SSH_AUTH_FAILED'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_MISMATCH'
  | 'GPU_UNAVAILABLE'
  | 'HOST_TIMEOUT'
  | 'HOST_ERROR'
  | 'INTERNAL_ERROR';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string) => new AppError(400, 'VALIDATION_FAILED', message);
export const notFound = (code: ErrorCode, message: string) => new AppError(404, code, message);
export const conflict = (message: string) => new AppError(409, 'CONFLICT', message);
export const forbidden = (code: ErrorCode, message: string) => new AppError(403, code, message);
export const tooLarge = (message: string) => new AppError(413, 'TOO_LARGE', message);

/** HTTP reason phrases for the statuses the project uses. */
export const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string;
}

export function errorBody(err: AppError): ErrorBody {
  return {
    statusCode: err.status,
    error: REASON_PHRASES[err.status] ?? 'Error',
    code: err.code,
    message: err.message,
  };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'TOO_LARGE',
};

/**
 * Turns anything thrown into an AppError. Known errors keep their status and message; Nest's own
 * HTTP exceptions (unknown route, ...) and body-parser errors (bad JSON, body too large) are mapped to
 * the documented codes; anything else is a bug and becomes a 500 whose details stay in the server log
 * (message only: stack traces can carry paths and arguments).
 */
export function toAppError(err: unknown, log?: Logger): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    let message = typeof res === 'string' ? res : ((res as { message?: unknown }).message ?? err.message);
    if (Array.isArray(message)) message = message.join('; ');
    if (status === 404) message = `${String(message)}. See /docs or /openapi.json for the available operations.`;
    return new AppError(status, CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED'), String(message));
  }
  const e = err as { type?: string; status?: number; statusCode?: number; limit?: number };
  // body-parser errors carry `type` and `status`.
  if (e?.type === 'entity.too.large')
    return new AppError(413, 'TOO_LARGE', `The request body is larger than the ${e.limit ?? ''} byte limit; send less data per call.`);
  if (e?.type === 'entity.parse.failed') return new AppError(400, 'VALIDATION_FAILED', 'The request body is not valid JSON.');
  if (e?.type && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError(e.status === 415 ? 415 : 400, 'VALIDATION_FAILED', `The request body could not be read (${e.type}).`);
  }
  log?.error(`unexpected error: ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
  return new AppError(
    500,
    'INTERNAL_ERROR',
    'The server failed unexpectedly; the details are in its log. Try again, and report it if it persists.',
  );
}
