/** src/infra/ollama/model-name.ts: which strings are Ollama model names, and when two names are one model. */
import { describe, expect, it } from 'vitest';
import { isValidModelName, modelIdentity, MODEL_NAME_PATTERN } from '../../src/infra/ollama/model-name.js';

describe('isValidModelName', () => {
  it.each([
    'llama3.2',
    'llama3.2:latest',
    'gemma:2b',
    'requirements-agent',
    'myns/model:tag',
    'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M',
    'registry.local:5000/team/model:v1.2',
    'qwen3.8:27b-mlx',
    'glm-5.3:cloud',
    '_private',
    `llama3.2@sha256:${'0'.repeat(64)}`,
    'a'.repeat(80),
  ])('accepts %s', (name) => {
    expect(isValidModelName(name)).toBe(true);
  });

  it.each([
    '',
    'Bad Name!',
    '-leading-dash',
    '.hidden',
    'a'.repeat(81),
    'hf.co/repo',
    'a/b/c/d',
    'model:',
    ':tag',
    'model:tag:more',
    '../etc/passwd',
    'x; rm -rf /',
    'model@sha256:abc',
    'ns.dot/model',
  ])('refuses %j', (name) => {
    expect(isValidModelName(name)).toBe(false);
  });

  it('exports a pattern string usable as an OpenAPI pattern and in new RegExp()', () => {
    expect(typeof MODEL_NAME_PATTERN).toBe('string');
    expect(new RegExp(MODEL_NAME_PATTERN).test('gemma:2b')).toBe(true);
    expect(new RegExp(MODEL_NAME_PATTERN, 'u').test('gemma:2b')).toBe(true);
  });
});

describe('modelIdentity', () => {
  it('follows Ollama defaults: case-insensitive, tag latest, registry.ollama.ai/library', () => {
    expect(modelIdentity('Gemma:2B')).toBe('registry.ollama.ai/library/gemma:2b');
    expect(modelIdentity('llama3.2')).toBe('registry.ollama.ai/library/llama3.2:latest');
    expect(modelIdentity('me/agent')).toBe('registry.ollama.ai/me/agent:latest');
    expect(modelIdentity('registry.local:5000/team/model')).toBe('registry.local:5000/team/model:latest');
    expect(modelIdentity('hf.co/bartowski/X-GGUF:Q4_K_M')).toBe('hf.co/bartowski/x-gguf:q4_k_m');
    // A digest pin stays apart from the tag it defaults.
    expect(modelIdentity(`Llama3.2@sha256:${'a'.repeat(64)}`)).toBe(`registry.ollama.ai/library/llama3.2:latest@sha256:${'a'.repeat(64)}`);
  });
});
