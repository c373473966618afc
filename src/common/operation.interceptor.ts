import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Observable, tap } from 'rxjs';
import { HostRegistry } from '../infra/host-registry.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuditLog } from './audit.js';
import { toAppError } from './error-filter.js';
import { OPERATION_KEY, type OperationDef } from './operation.js';

/** REST side of an operation call: request metrics for every operation, the audit record for audited ones. */
@Injectable()
export class OperationInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditLog,
    private readonly hosts: HostRegistry,
    private readonly metrics: MetricsService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const op = this.reflector.get<OperationDef | undefined>(OPERATION_KEY, context.getHandler());
    if (!op) return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const started = performance.now();
    const args = { ...(req.query as object), ...(req.params as object), ...(typeof req.body === 'object' ? req.body : {}) };
    const record = (status: number, code?: string) => {
      this.metrics.observe(op.id, status, 'rest', (performance.now() - started) / 1000);
      if (!op.audited) return;
      this.audit.record({
        operation: op.id,
        host: typeof (args as { host?: unknown }).host === 'string' ? (args as { host: string }).host : this.hosts.defaultName,
        caller: req.caller!,
        args,
        outcome: status < 400 ? 'ok' : 'error',
        status,
        code,
        duration_ms: performance.now() - started,
        surface: 'rest',
      });
    };
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
