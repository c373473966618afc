/**
 * A counting semaphore with a FIFO queue. sshd refuses sessions beyond its MaxSessions (default 10) per
 * connection, so a burst of 100 execs on one connection would see 90 "open failed" errors; bounding the
 * channels we open and queueing the rest turns that burst into latency instead of failures.
 */

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
}

export class ChannelLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(private limit: number) {
    checkLimit(limit);
  }

  get capacity(): number {
    return this.limit;
  }

  /**
   * Change how many may hold a slot at once. Raising it lets queued callers through now; lowering it
   * takes nobody's slot away, it only holds the queue until enough have been released.
   */
  setCapacity(limit: number): void {
    checkLimit(limit);
    this.limit = limit;
    while (this.active < this.limit && this.queue.length > 0) {
      this.active++;
      this.queue.shift()!.resolve(this.releaser());
    }
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with a release function once a slot is free. If `signal` aborts while the caller is still
   * queued, the caller leaves the queue and the promise rejects with `signal.reason`.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Reject everyone still waiting (the transport is closing). */
  rejectAll(err: unknown): void {
    for (const w of this.queue.splice(0)) w.reject(err);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the slot straight to the next waiter, so a newcomer cannot overtake the queue (unless the
      // capacity was lowered below what is held: then the slot is gone).
      const next = this.active <= this.limit ? this.queue.shift() : undefined;
      if (next) next.resolve(this.releaser());
      else this.active--;
    };
  }
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`channel limit must be >= 1, got ${limit}`);
}
