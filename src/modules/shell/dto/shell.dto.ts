import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { HostInput } from '../../../common/host-input.dto.js';
import { NoNulBytes } from '../../../common/no-nul-bytes.js';

export class ShellExecInput extends HostInput {
  /** Command line for sh -c, e.g. "df -h". */
  @IsString()
  @MinLength(1)
  @MaxLength(16_384)
  @NoNulBytes()
  command: string;

  /** Seconds before it is killed (default 60, at most 400). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  timeout_seconds?: number;

  /** Working directory (default: home). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  @NoNulBytes()
  cwd?: string;

  /** Bytes kept per stream, start and end (default 4 KiB, at most 64 KiB). */
  @IsOptional()
  @IsInt()
  @Min(256)
  @Max(16 * 1024 * 1024)
  max_output_bytes?: number;
}

export class ShellExecResult {
  /** Configured host name. */
  host: string;
  /** The command that ran. */
  command: string;
  /** Exit status; null when the command was killed (timeout, output limit) or died from a signal. */
  exit_code: number | null;
  /** Signal that ended the command, e.g. "KILL"; null when it exited normally. */
  signal: string | null;
  /** Standard output (UTF-8); when longer than the cap, its beginning and end with a marker between. */
  stdout: string;
  /** Standard error, capped like stdout. */
  stderr: string;
  /** True when stdout was cut to the cap. */
  stdout_truncated: boolean;
  /** True when stderr was cut to the cap. */
  stderr_truncated: boolean;
  /** Bytes the command wrote to stdout (as far as it was read). */
  stdout_bytes: number;
  /** Bytes the command wrote to stderr (as far as it was read). */
  stderr_bytes: number;
  /** True when the command was killed because it outlived timeout_seconds. */
  timed_out: boolean;
  /** True when the command was ended because one stream passed the host's read limit (16 MiB by default); the tail shown is where reading stopped. */
  output_limit_reached: boolean;
  /** When output was cut: what was left out and how to get it. */
  note?: string;
  /** Wall time in milliseconds. */
  duration_ms: number;
}
