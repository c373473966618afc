import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { RUN_TEMP_PREFIX } from '../support/run-temp-dir.js';
import { BASE_ENV } from '../support/server.js';

const runDir = inject('runTempDir');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : sourceFiles(p);
    return /\.(ts|mjs|js|sh)$/.test(e.name) ? [p] : [];
  });
}

describe('the test run keeps its temporary files in one directory of its own', () => {
  it('points this worker at a run directory under the system temp dir', () => {
    expect(path.basename(runDir).startsWith(RUN_TEMP_PREFIX)).toBe(true);
    expect(statSync(runDir).isDirectory()).toBe(true);
    expect(os.tmpdir()).toBe(runDir);
  });

  it('hands the same directory to the servers the tests spawn', () => {
    const seen = execFileSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], {
      env: BASE_ENV,
      encoding: 'utf8',
    });
    expect(seen).toBe(runDir);
  });

  it('has no test or bench file that creates temporary files under a hard-coded /tmp', () => {
    const offenders = [...sourceFiles('test'), ...sourceFiles('bench')].filter((file) =>
      /mkdtemp(Sync)?\(\s*['"`]\/tmp|mktemp\s+(-d\s+)?\/tmp/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
    expect(existsSync('test/support/global-setup.ts')).toBe(true); // the scan ran from the repository root
  });
});
