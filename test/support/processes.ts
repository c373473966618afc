/**
 * Processes on this machine, which is also the test sshd's host: finding a command's pids and making
 * command lines that only one test's processes carry.
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/** pids whose full command line contains `pattern` (a regular expression, as pgrep -f reads it). */
export function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** SIGKILL every process whose command line contains `pattern` (what a test leaves behind on purpose). */
export function killMatching(pattern: string): void {
  for (const pid of pgrep(pattern)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/**
 * A unique, harmless `sleep` argument (about 3 to 30 years, so the sleep never ends by itself), so
 * pgrep finds only the processes of the test that made it.
 */
export function sleepMarker(): string {
  return `${randomInt(100_000_000, 1_000_000_000)}.5`;
}
