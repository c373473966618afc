/**
 * The ssh transport starts every command with `printf '__ght_pid__=%s\n' "$$"`, so it learns the remote
 * shell's pid, which is also its process group and session id (sshd calls setsid() before running the
 * account's shell). That is the fallback for killing a command on timeout when sshd refuses signal
 * requests: OpenSSH does so for root logins (no post-auth privilege separation: "session signalling
 * requires privilege separation") and versions before 7.9 ignore them. This strips that first line from
 * stdout again, and passes everything through untouched if the first line is not exactly ours.
 */

export const PID_PREFIX = '__ght_pid__=';

/** The command line that reports the pid before running `command`. */
export function withPidPreamble(command: string): string {
  return `printf '${PID_PREFIX}%s\\n' "$$"\n${command}`;
}

const PREFIX = Buffer.from(PID_PREFIX);
const NOTHING = Buffer.alloc(0);
/** Prefix + up to 10 digits + newline. */
const MAX_LINE = PREFIX.length + 11;

export class PidPreamble {
  private pending: Buffer | null = Buffer.alloc(0);
  pid: number | undefined;

  /** Feed stdout; returns what belongs to the command's own output (possibly empty). */
  feed(chunk: Buffer): Buffer {
    if (this.pending === null) return chunk;
    // Nearly always the whole line comes in the first chunk: no copy then.
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const n = Math.min(buf.length, PREFIX.length);
    if (!buf.subarray(0, n).equals(PREFIX.subarray(0, n))) return this.giveUp(buf);
    const nl = buf.indexOf(0x0a);
    if (nl === -1) {
      if (buf.length >= MAX_LINE) return this.giveUp(buf);
      this.pending = buf;
      return NOTHING;
    }
    const digits = buf.subarray(PREFIX.length, nl).toString('latin1');
    if (!/^\d{1,10}$/.test(digits)) return this.giveUp(buf);
    this.pid = Number(digits);
    this.pending = null;
    return buf.subarray(nl + 1);
  }

  /** At end of stream: whatever was held back while it still looked like the preamble. */
  flush(): Buffer {
    const rest = this.pending ?? Buffer.alloc(0);
    this.pending = null;
    return rest;
  }

  private giveUp(buf: Buffer): Buffer {
    this.pending = null;
    return buf;
  }
}
