import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Observable, tap } from 'rxjs';
import { CallRecorder, restArgs } from './call-recorder.js';
import { toAppError } from '../common/errors.js';
import { OPERATION_KEY, type OperationDef } from './operation.js';

/** REST side of an operation call: hands its outcome to the CallRecorder (metrics, audit). */
@Injectable()
export class OperationInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly calls: CallRecorder,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const op = this.reflector.get<OperationDef | undefined>(OPERATION_KEY, context.getHandler());
    if (!op) return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const started = performance.now();
    // Only the audit reads the arguments; merging them costs a query-string parse for every other call.
    const args = op.audited ? restArgs(req) : {};
    const record = (status: number, code?: string) =>
      this.calls.record(op, { caller: req.caller!, args, status, code, startedAt: started, surface: 'rest' });
    return next.handle().pipe(
      tap({
        next: () => record(200),
        error: (err: unknown) => {
          const e = toAppError(err);
          record(e.status, e.code);
        },
      }),
    );
  }
}
