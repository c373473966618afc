import { Injectable } from '@nestjs/common';
import { HostRegistry } from '../infra/host-registry.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuditLog } from './audit.js';
import type { Caller } from './auth.js';
import type { OperationDef } from './operation.js';

export interface FinishedCall {
  caller: Caller;
  /** The arguments as the client sent them (query, path and body merged for REST). */
  args: Record<string, unknown>;
  status: number;
  code?: string;
  /** performance.now() when the call started. */
  startedAt: number;
  surface: 'rest' | 'mcp';
}

/**
 * What every operation call leaves behind, on either surface: request metrics always, and the audit
 * line for write and shell calls that passed authentication (a missing key or scope is not a call).
 */
@Injectable()
export class CallRecorder {
  constructor(
    private readonly audit: AuditLog,
    private readonly hosts: HostRegistry,
    private readonly metrics: MetricsService,
  ) {}

  record(op: OperationDef, call: FinishedCall): void {
    const durationMs = performance.now() - call.startedAt;
    this.metrics.observe(op.id, call.status, call.surface, durationMs / 1000);
    if (!op.audited || call.status === 401 || (call.status === 403 && call.code === 'FORBIDDEN')) return;
    this.audit.record({
      operation: op.id,
      host: typeof call.args.host === 'string' ? call.args.host : this.hosts.defaultName,
      caller: call.caller,
      args: call.args,
      outcome: call.status < 400 ? 'ok' : 'error',
      status: call.status,
      code: call.code,
      duration_ms: durationMs,
      surface: call.surface,
    });
  }
}
