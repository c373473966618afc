import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.types.js';
import type { Caller } from './auth.js';

/**
 * Fields whose values are file contents, edit texts or model texts (a Modelfile can be 1 MiB): the
 * audit keeps their size and hash only.
 */
const CONTENT_FIELDS = new Set(['content', 'old_text', 'new_text', 'modelfile', 'system', 'template', 'license']);

export interface AuditEntry {
  operation: string;
  host: string;
  caller: Caller;
  args: unknown;
  /** refused: turned down before it ran (input, scope, jail, policy); error: it ran and failed. */
  outcome: 'ok' | 'refused' | 'error';
  status: number;
  code?: string;
  duration_ms: number;
  surface: 'rest' | 'mcp';
}

/** How long an audit line may wait to be written with the ones after it. */
const FLUSH_MS = 50;

/** Deeper argument structure is summarised: the audit also records calls refused for bad input. */
const MAX_AUDIT_DEPTH = 8;

/** Replaces content-like strings by {size_bytes, sha256}, recursively (edits are arrays of objects). */
export function redactArgs(value: unknown, key?: string, depth = 0): unknown {
  if (typeof value === 'string' && key && CONTENT_FIELDS.has(key)) {
    return { size_bytes: Buffer.byteLength(value), sha256: createHash('sha256').update(value).digest('hex') };
  }
  if (value && typeof value === 'object' && depth >= MAX_AUDIT_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => redactArgs(v, undefined, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactArgs(v, k, depth + 1)]));
  }
  return value;
}

/**
 * One JSON line per write or shell call, to AUDIT_LOG when set, else to the log. Never
 * holds keys (only the key's name) or file contents.
 */
@Injectable()
export class AuditLog implements OnApplicationShutdown {
  private readonly log = new Logger('Audit');
  private readonly file?: WriteStream;
  /** Lines recorded since the last write, written together FLUSH_MS after the first of them. */
  private pending: string[] = [];
  private flushTimer?: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (config.audit_log) {
      this.file = createWriteStream(config.audit_log, { flags: 'a', mode: 0o600 });
      this.file.on('error', (e) => this.log.error(`cannot write the audit log ${config.audit_log}: ${e.message}`));
    }
  }

  record(entry: AuditEntry): void {
    const line = JSON.stringify({
      time: new Date().toISOString(),
      key: entry.caller.keyName,
      user: entry.caller.user,
      surface: entry.surface,
      operation: entry.operation,
      host: entry.host,
      args: redactArgs(entry.args),
      outcome: entry.outcome,
      status: entry.status,
      code: entry.code,
      duration_ms: Math.round(entry.duration_ms),
    });
    // The call is recorded just before its answer is sent. Writing to the log is a blocking write to a
    // pipe (stdout) that wakes its reader: one per call cost a trivial shell_exec 0.5–1 ms, most of it
    // while the next request waited. The lines of FLUSH_MS are written together, in one write; shutdown
    // writes what is pending.
    this.pending.push(line);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const lines = this.pending;
    this.pending = [];
    if (lines.length === 0) return;
    if (this.file) this.file.write(lines.join('\n') + '\n');
    else this.log.log(...(lines as [string, ...string[]]));
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    if (this.file) await new Promise<void>((resolve) => this.file!.end(resolve));
  }
}
