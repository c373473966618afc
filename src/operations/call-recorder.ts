import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
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

/** A REST call's arguments as the client sent them: query, path parameters and body merged. */
export function restArgs(req: Request): Record<string, unknown> {
  return {
    ...(req.query as object),
    ...(req.params as object),
    ...(typeof req.body === 'object' ? req.body : {}),
  };
}

/**
 * Statuses of calls refused before anything ran on a host: bad input, missing scope, jail, protected
 * path, shell policy, too large. The audit tells them apart from calls that ran and failed.
 */
const REFUSAL_STATUSES = new Set([400, 403, 413]);

/**
 * What every operation call leaves behind, on either surface: request metrics always, and the audit
 * line for every write and shell call by a known caller, refused or not (the refusals are what an
 * audit is for). Only a missing or wrong key leaves no line: there is no caller to name.
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
    if (!op.audited || call.status === 401) return;
    this.audit.record({
      operation: op.id,
      host: typeof call.args.host === 'string' ? call.args.host : this.hosts.defaultName,
      caller: call.caller,
      args: call.args,
      outcome: call.status < 400 ? 'ok' : REFUSAL_STATUSES.has(call.status) ? 'refused' : 'error',
      status: call.status,
      code: call.code,
      duration_ms: durationMs,
      surface: call.surface,
    });
  }
}
