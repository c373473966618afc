import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AppError, errorBody, type ErrorCode } from './errors.js';

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

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Error');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const err = toAppError(exception, this.log);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(err.status).json(errorBody(err));
  }
}
