import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors.js';
import { HostRegistry } from '../../infra/host-registry.js';
import type { ShellExecInput, ShellExecResult } from './dto/shell.dto.js';
import { checkCommandPolicy } from './shell-policy.js';

@Injectable()
export class ShellService {
  constructor(private readonly hosts: HostRegistry) {}

  async shell_exec(input: ShellExecInput, ctx?: { signal?: AbortSignal }): Promise<ShellExecResult> {
    const host = this.hosts.get(input.host);
    const policy = host.config.shell;
    checkCommandPolicy(host.name, policy, input.command);
    const timeout = input.timeout_seconds ?? policy.default_timeout_seconds;
    if (timeout > policy.max_timeout_seconds) {
      throw new AppError(
        400,
        'VALIDATION_FAILED',
        `Invalid input: timeout_seconds: must be at most ${policy.max_timeout_seconds} on host '${host.name}'.`,
      );
    }
    const r = await host.transport.exec(input.command, {
      timeoutMs: timeout * 1000,
      maxStdoutBytes: policy.max_output_bytes,
      maxStderrBytes: policy.max_output_bytes,
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
      duration_ms: Math.round(r.durationMs),
    };
  }
}
