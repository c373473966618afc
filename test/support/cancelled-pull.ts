import { expect } from 'vitest';
import type { OllamaClient } from '../../src/infra/ollama/ollama-client.js';
import { OllamaAbortError } from '../../src/infra/ollama/ollama-errors.js';
import type { OllamaProgress } from '../../src/infra/ollama/ollama-wire-types.js';
import type { FakeCancel, FakeOllama } from './fake-ollama.js';

/**
 * Pulls `model` slowly (20 ms a line, 100 chunks a layer), aborts after `afterLines` progress lines, and
 * checks what a cancel must do: the pull rejects with OllamaAbortError, and the fake Ollama sees the
 * client go early (fewer than 20 lines sent). Returns the lines seen and the fake's record of the cancel.
 */
export async function cancelledPull(
  client: OllamaClient,
  fake: FakeOllama,
  afterLines: number,
  model = 'gemma:2b',
): Promise<{ seen: OllamaProgress[]; cancel: FakeCancel }> {
  fake.state.pullDelayMs = 20;
  fake.state.pullChunksPerLayer = 100;
  const before = fake.state.cancelled.length;
  const controller = new AbortController();
  const seen: OllamaProgress[] = [];
  const pull = client.pull(model, {
    signal: controller.signal,
    onProgress: (p) => {
      seen.push(p);
      if (seen.length === afterLines) controller.abort();
    },
  });
  await expect(pull).rejects.toBeInstanceOf(OllamaAbortError);
  await expect.poll(() => fake.state.cancelled.length, { timeout: 5_000 }).toBe(before + 1);
  const cancel = fake.state.cancelled[before]!;
  expect(cancel).toMatchObject({ kind: 'pull', model });
  expect(cancel.linesSent).toBeLessThan(20);
  return { seen, cancel };
}
