/**
 * The test run's own temporary directory. globalSetup creates it and points TMPDIR at it before any
 * worker or child process starts, so everything that asks os.tmpdir() (mkdtemp in the tests, the fake
 * nvidia-smi, sshd's keys, Chromium's profile, the servers the tests spawn) lands inside it; removing it
 * at the end cleans up after every test, including one that failed before its own afterAll. Other runs
 * on the same machine get their own directory, so nothing here ever touches their files.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Name prefix of every run directory, e.g. /tmp/ght-test-run-AbC123. */
export const RUN_TEMP_PREFIX = 'ght-test-run-';

export function createRunTempDir(): { path: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), RUN_TEMP_PREFIX));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return {
    path: dir,
    remove: () => {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      if (existsSync(dir)) throw new Error(`the test run could not remove its temporary directory ${dir}`);
    },
  };
}
