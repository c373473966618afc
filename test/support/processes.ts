/**
 * Processes on this machine, which is also the test sshd's host: finding a command's pids and making
 * command lines that only one test's processes carry.
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Every process below `root` (children, their children, ...), from each process's parent in /proc (Linux). */
export function descendants(root: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    childrenOf.set(ppid, [...(childrenOf.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of childrenOf.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * A unique, harmless `sleep` argument (about 3 to 30 years, so the sleep never ends by itself), so
 * pgrep finds only the processes of the test that made it.
 */
export function sleepMarker(): string {
  return `${randomInt(100_000_000, 1_000_000_000)}.5`;
}
