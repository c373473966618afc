/**
 * Typed access to what test/support/global-setup.ts provides to every test worker.
 */
import { inject } from 'vitest';
import type { SshdInfo } from './sshd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sshd: SshdInfo;
    /** The run's temporary directory (TMPDIR of every worker and spawned server); removed at the end. */
    runTempDir: string;
  }
}

/** The shared test sshd (127.0.0.1, random port, current user, generated keys). Do not stop it. */
export function sharedSshd(): SshdInfo {
  return inject('sshd');
}
