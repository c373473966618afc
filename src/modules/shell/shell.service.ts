import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors.js';
import { HostRegistry } from '../../infra/host-registry.js';
import type { ShellExecInput, ShellExecResult } from './dto/shell.dto.js';
import { defaultStreamBytes } from '../../common/result-budget.js';
import { checkCommandPolicy } from './shell-policy.js';
import type { ExecResult } from '../../infra/transport.js';

/** Says which stream lost its middle and how to see what was left out. */
function truncationNote(r: ExecResult, keep: number, max: number): string {
  const cut = [r.stdoutTruncated && `stdout (${r.stdoutBytes} bytes)`, r.stderrTruncated && `stderr (${r.stderrBytes} bytes)`].filter(
    Boolean,
  );
  return (
    `The middle of ${cut.join(' and ')} was left out; the first and last ${Math.floor(keep / 2)} bytes are shown. ` +
    'Narrow the command (grep, head, tail -n)' +
    (keep < max ? ` or pass max_output_bytes (at most ${max}).` : '.')
  );
}

/** A field within its schema bounds may still be above what this host's settings allow. */
function checkHostLimit(host: string, field: string, value: number, max: number): void {
  if (value > max) throw new AppError(400, 'VALIDATION_FAILED', `Invalid input: ${field}: must be at most ${max} on host '${host}'.`);
}

@Injectable()
export class ShellService {
  constructor(private readonly hosts: HostRegistry) {}

  async shell_exec(input: ShellExecInput, ctx?: { signal?: AbortSignal }): Promise<ShellExecResult> {
    const host = this.hosts.get(input.host);
    const policy = host.config.shell;
    checkCommandPolicy(host.name, policy, input.command);
    const timeout = input.timeout_seconds ?? policy.default_timeout_seconds;
    checkHostLimit(host.name, 'timeout_seconds', timeout, policy.max_timeout_seconds);
    if (input.max_output_bytes !== undefined)
      checkHostLimit(host.name, 'max_output_bytes', input.max_output_bytes, policy.max_output_bytes);
    const keep = input.max_output_bytes ?? Math.min(policy.max_output_bytes, defaultStreamBytes(host.config.results.default_max_bytes));
    const r = await host.transport.exec(input.command, {
      timeoutMs: timeout * 1000,
      maxStdoutBytes: keep,
      maxStderrBytes: keep,
      maxReadBytes: policy.max_read_bytes,
      cwd: input.cwd,
      signal: ctx?.signal,
    });
    return {
      host: host.name,
      command: input.command,
      exit_code: r.exitCode,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      stdout_truncated: r.stdoutTruncated,
      stderr_truncated: r.stderrTruncated,
      stdout_bytes: r.stdoutBytes,
      stderr_bytes: r.stderrBytes,
      timed_out: r.timedOut,
      output_limit_reached: r.outputLimitReached,
      ...(r.stdoutTruncated || r.stderrTruncated ? { note: truncationNote(r, keep, policy.max_output_bytes) } : {}),
      duration_ms: Math.round(r.durationMs),
    };
  }
}
