import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { ExecOptions, HostTransport } from '../../src/infra/transport.js';

/**
 * Checks that `onStdout` receives the output as it arrives, beyond the kept caps and without the pid
 * preamble: the command prints its second line only once the first has reached the callback, so a
 * transport that hands over the final buffer instead of a stream waits in vain.
 */
export async function expectStdoutStreamed(t: HostTransport, defaults: ExecOptions): Promise<void> {
  const chunks: string[] = [];
  let sawFirstBeforeSecond = false;
  const flagDir = mkdtempSync(path.join(os.tmpdir(), 'ght-onstdout-'));
  const flag = path.join(flagDir, 'go');
  try {
    const r = await t.exec(
      `echo first; i=0; while [ ! -e ${flag} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; rm -f ${flag}; echo second; head -c 5000 /dev/zero | tr '\\0' x`,
      {
        ...defaults,
        maxStdoutBytes: 16,
        onStdout: (chunk) => {
          chunks.push(chunk.toString('utf8'));
          if (chunks.join('').includes('first\n') && !sawFirstBeforeSecond && !chunks.join('').includes('second')) {
            sawFirstBeforeSecond = true;
            writeFileSync(flag, '');
          }
        },
      },
    );
    expect(r.exitCode).toBe(0);
    expect(sawFirstBeforeSecond).toBe(true);
    expect(chunks.join('')).toBe(`first\nsecond\n${'x'.repeat(5000)}`);
    expect(r.stdoutTruncated).toBe(true);
  } finally {
    rmSync(flagDir, { recursive: true, force: true });
  }
}
