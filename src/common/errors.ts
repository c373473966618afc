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
