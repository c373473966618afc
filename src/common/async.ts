/** Rejects with Error('timeout') when the promise has not settled within ms. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The first line of a command's output, bounded, for quoting in an error message. */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) || 'no output';
}

/**
 * Lets timers and other requests run before going on: long CPU work on request input (a big edit, a large
 * search) awaits this between slices, so no single slice holds the event loop for long.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
