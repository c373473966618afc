/**
 * vitest globalSetup: one real sshd for the whole run (see sshd.ts), its connection details handed to the
 * test workers with project.provide('sshd') and read back with sshdInfoFromContext() in context.ts.
 * Tests that need to stop or break a server start their own with startSshd(); this shared one must stay up.
 *
 * Every temporary file of the run lives in one directory of its own (see run-temp-dir.ts), removed here
 * at the end, so a run leaves nothing in /tmp even when a test fails before its own clean-up.
 */
import type { TestProject } from 'vitest/node';
import { startSshd, sshdInfo, type Sshd } from './sshd.js';
import { createRunTempDir } from './run-temp-dir.js';
import './context.js';

let sshd: Sshd | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runTemp = createRunTempDir();
  try {
    sshd = await startSshd();
  } catch (err) {
    runTemp.remove();
    // One clear line instead of a stack from deep inside child_process.
    throw new Error(`test setup could not start the test OpenSSH server: ${(err as Error).message}`, { cause: err });
  }
  project.provide('sshd', sshdInfo(sshd));
  project.provide('runTempDir', runTemp.path);
  return async () => {
    await sshd?.dispose();
    sshd = undefined;
    runTemp.remove();
  };
}
