/** The per-host `results.default_max_bytes` setting (YAML) and RESULTS_DEFAULT_MAX_BYTES (single host). */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { configErrorOf as errorOf } from '../support/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-results-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const yamlFile = (text: string) => {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
};

describe('results.default_max_bytes', () => {
  it('defaults to 12 KiB', () => {
    expect(loadConfig({ HOME: '/home/me' }).hosts[0].results).toEqual({ default_max_bytes: 12288 });
  });

  it('is set per host in YAML, and by RESULTS_DEFAULT_MAX_BYTES for the single host', () => {
    const file = yamlFile(
      'hosts:\n  big:\n    transport: local\n    results:\n      default_max_bytes: 131072\n  small:\n    transport: local\n',
    );
    const c = loadConfig({ HOME: '/home/me', CONFIG_FILE: file });
    expect(c.hosts.map((h) => [h.name, h.results.default_max_bytes])).toEqual([
      ['big', 131072],
      ['small', 12288],
    ]);
    expect(loadConfig({ HOME: '/home/me', RESULTS_DEFAULT_MAX_BYTES: '65536' }).hosts[0].results.default_max_bytes).toBe(65536);
  });

  it('refuses values a model could not use or that are not sizes, naming where they came from', () => {
    expect(errorOf({ HOME: '/home/me', RESULTS_DEFAULT_MAX_BYTES: '100' })).toMatch(/RESULTS_DEFAULT_MAX_BYTES/);
    expect(errorOf({ HOME: '/home/me', RESULTS_DEFAULT_MAX_BYTES: 'lots' })).toMatch(/RESULTS_DEFAULT_MAX_BYTES/);
    const file = yamlFile('hosts:\n  a:\n    transport: local\n    results:\n      default_max_bytes: 99999999999\n');
    expect(errorOf({ HOME: '/home/me', CONFIG_FILE: file })).toMatch(/hosts\.a\.results\.default_max_bytes/);
    const unknown = yamlFile('hosts:\n  a:\n    transport: local\n    results:\n      max: 1\n');
    expect(errorOf({ HOME: '/home/me', CONFIG_FILE: unknown })).toMatch(/hosts\.a\.results\.max/);
  });
});
