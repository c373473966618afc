/**
 * The shared test helpers that other tests lean on for their verdicts: expectError must refuse every
 * way an error answer can be wrong (else a server defect passes unseen), and descendants must find a
 * whole process tree (else a test that kills what it started leaves processes behind).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { descendants, pgrep, sleepMarker } from '../support/processes.js';
import { expectError } from '../support/server.js';
import { waitFor } from '../support/waiting.js';

describe('expectError', () => {
  const good = { statusCode: 404, error: 'Not Found', code: 'FILE_NOT_FOUND', message: 'No file at a.txt; list the folder first.' };
  const answer = (body: unknown, status = 404) => ({ status, body, text: JSON.stringify(body) });

  it('accepts the documented shape', () => {
    expectError(answer(good), 404, 'FILE_NOT_FOUND');
    expectError(answer({ ...good, statusCode: 413, error: 'Payload Too Large', code: 'TOO_LARGE' }, 413), 413, 'TOO_LARGE');
  });

  it.each([
    ['another HTTP status', answer(good, 400)],
    ['statusCode not the status', answer({ ...good, statusCode: 400 })],
    ['another code', answer({ ...good, code: 'NOT_FOUND' })],
    ['error not the reason phrase', answer({ ...good, error: 'FILE_NOT_FOUND' })],
    ['error missing', answer({ statusCode: 404, code: 'FILE_NOT_FOUND', message: good.message })],
    ['a field beyond the four', answer({ ...good, stack: 'Error: x' })],
    ['message not a string', answer({ ...good, message: ['a', 'b'] })],
    ['message empty', answer({ ...good, message: '  ' })],
    ['a stack frame in the message', answer({ ...good, message: 'Error: boom\n    at readFile (node:fs:1:2)' })],
    ['no JSON body (an HTML page)', { status: 404, body: undefined, text: '<html>Not Found</html>' }],
  ])('refuses %s', (_what, res) => {
    expect(() => expectError(res, 404, 'FILE_NOT_FOUND')).toThrow();
  });

  it('does not take a word "at" inside a sentence for a stack frame', () => {
    expectError(answer({ ...good, message: 'No file at a.txt; look at the listing first.' }), 404, 'FILE_NOT_FOUND');
  });
});

describe('descendants', () => {
  it('finds children and grandchildren, and nothing of another tree', async () => {
    const marker = sleepMarker();
    // sh → (sh → sleep) and sh → sleep: two levels below the outer shell.
    const outer = spawn('sh', ['-c', `sleep ${marker} & sh -c 'sleep ${marker}; :' & wait`], { stdio: 'ignore' });
    try {
      await waitFor('both sleeps running', () => pgrep(`^sleep ${marker}`).length === 2, 10_000);
      const sleeps = pgrep(`^sleep ${marker}`);
      const below = descendants(outer.pid!);
      expect(below).toEqual(expect.arrayContaining(sleeps));
      expect(below).toHaveLength(3); // the two sleeps and the inner sh
      expect(below).not.toContain(outer.pid);
      expect(descendants(process.pid)).toEqual(expect.arrayContaining([outer.pid!, ...below]));
      expect(descendants(sleeps[0])).toEqual([]);
    } finally {
      for (const pid of [...descendants(outer.pid!), outer.pid!]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      if (outer.exitCode === null && outer.signalCode === null) await once(outer, 'exit');
    }
  });
});
