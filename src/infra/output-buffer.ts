import { utf8Boundary, utf8Start } from '../common/text.js';
import type { ExecResult } from './transport.js';
/**
 * Collects a byte stream (a command's stdout, say) in O(cap) memory however much is written: the first
 * half of the cap is kept as the head, the last half in a ring buffer as the tail, and everything in
 * between is only counted. The head shows what a command started with (headers, the first error) and the
 * tail how it ended (the summary, the last error); the middle of a gigabyte of output helps nobody and must
 * not grow the server's memory.
 */

export interface BoundedOutputResult {
  /** UTF-8 text; when truncated, head + omission marker + tail. */
  text: string;
  /** Total bytes written, kept or not. */
  bytes: number;
  truncated: boolean;
}

export function omissionMarker(omittedBytes: number): string {
  return `\n[... ${omittedBytes} bytes omitted ...]\n`;
}

export class BoundedOutput {
  private readonly headCap: number;
  private readonly tailCap: number;
  private head: Buffer = Buffer.alloc(0);
  private headLen = 0;
  /** Grows (doubling) until tailCap, then is used as a ring: small outputs cost small buffers. */
  private tail: Buffer = Buffer.alloc(0);
  private tailStart = 0;
  private tailLen = 0;
  private total = 0;

  constructor(readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 0) throw new RangeError(`BoundedOutput cap must be a non-negative integer, got ${cap}`);
    this.headCap = Math.floor(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  get bytes(): number {
    return this.total;
  }

  write(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.total += data.length;
    if (this.headLen < this.headCap) {
      const n = Math.min(this.headCap - this.headLen, data.length);
      this.ensureHeadCapacity(this.headLen + n);
      data.copy(this.head, this.headLen, 0, n);
      this.headLen += n;
      data = data.subarray(n);
    }
    if (data.length > 0 && this.tailCap > 0) this.writeTail(data);
  }

  result(): BoundedOutputResult {
    const kept = this.headLen + this.tailLen;
    const head = this.head.subarray(0, this.headLen);
    const tail = this.tailBytes();
    if (kept === this.total) {
      return { text: Buffer.concat([head, tail]).toString('utf8'), bytes: this.total, truncated: false };
    }
    // Cut at character boundaries so the marker never sits next to half a multi-byte character
    // (which would decode as U+FFFD); the bytes trimmed here count as omitted.
    const headText = head.subarray(0, utf8Boundary(head));
    const tailText = tail.subarray(utf8Start(tail));
    const omitted = this.total - headText.length - tailText.length;
    return {
      text: headText.toString('utf8') + omissionMarker(omitted) + tailText.toString('utf8'),
      bytes: this.total,
      truncated: true,
    };
  }

  private ensureHeadCapacity(needed: number): void {
    if (needed <= this.head.length) return;
    const next = Buffer.alloc(Math.min(this.headCap, Math.max(needed, this.head.length * 2, 4096)));
    this.head.copy(next, 0, 0, this.headLen);
    this.head = next;
  }

  private writeTail(data: Buffer): void {
    const cap = this.tailCap;
    if (this.tail.length < cap) {
      // Growth phase: the tail is still linear (tailStart is 0).
      const needed = this.tailLen + data.length;
      if (needed <= this.tail.length) {
        data.copy(this.tail, this.tailLen);
        this.tailLen = needed;
        return;
      }
      const next = Buffer.alloc(Math.min(cap, Math.max(needed, this.tail.length * 2, 4096)));
      this.tail.copy(next, 0, 0, this.tailLen);
      this.tail = next;
      if (needed <= cap) {
        data.copy(this.tail, this.tailLen);
        this.tailLen = needed;
        return;
      }
    }
    // Ring phase: tail.length === cap.
    if (data.length >= cap) {
      data.copy(this.tail, 0, data.length - cap);
      this.tailStart = 0;
      this.tailLen = cap;
      return;
    }
    const end = (this.tailStart + this.tailLen) % cap;
    const first = Math.min(data.length, cap - end);
    data.copy(this.tail, end, 0, first);
    if (first < data.length) data.copy(this.tail, 0, first);
    const newLen = this.tailLen + data.length;
    if (newLen > cap) {
      this.tailStart = (this.tailStart + newLen - cap) % cap;
      this.tailLen = cap;
    } else {
      this.tailLen = newLen;
    }
  }

  private tailBytes(): Buffer {
    if (this.tailStart + this.tailLen <= this.tail.length) {
      return this.tail.subarray(this.tailStart, this.tailStart + this.tailLen);
    }
    const firstPart = this.tail.subarray(this.tailStart);
    return Buffer.concat([firstPart, this.tail.subarray(0, this.tailLen - firstPart.length)]);
  }
}

/** Why a transport ended a command itself, if it did. */
export type KillReason = 'timeout' | 'abort' | 'output';

/**
 * The ExecResult both transports return. When we killed the command, the exit code is meaningless
 * and the signal is KILL even if the host did not report one (a background child may have held the
 * output open after the shell itself exited).
 */
export function execResult(
  stdout: BoundedOutput,
  stderr: BoundedOutput,
  end: { exitCode: number | null; signal: string | null; killedFor?: KillReason; startedAt: number },
): ExecResult {
  const out = stdout.result();
  const err = stderr.result();
  return {
    exitCode: end.killedFor ? null : end.exitCode,
    signal: end.signal ?? (end.killedFor ? 'KILL' : null),
    stdout: out.text,
    stderr: err.text,
    stdoutBytes: out.bytes,
    stderrBytes: err.bytes,
    stdoutTruncated: out.truncated,
    stderrTruncated: err.truncated,
    timedOut: end.killedFor === 'timeout',
    outputLimitReached: end.killedFor === 'output',
    durationMs: Math.round(performance.now() - end.startedAt),
  };
}
