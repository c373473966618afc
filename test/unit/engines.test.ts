import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * npm warns (EBADENGINE) during `npm ci` when the running Node is outside any installed package's
 * engines range. The project's own range must therefore lie inside every package's range, so that on
 * every Node version it claims to support the install prints no engine warning.
 */
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const supported: string = pkg.engines.node;

const installed = Object.entries(lock.packages as Record<string, { engines?: unknown; optional?: boolean; os?: string[] }>)
  .filter(([path]) => path !== '')
  .map(([path, entry]) => ({ name: path.replace(/^.*node_modules\//, ''), entry }))
  // An optional package for another platform (a darwin binary) is skipped by npm, engines and all.
  .filter(({ entry }) => !(entry.optional && entry.os && !entry.os.includes('linux')));

describe('engines', () => {
  it('the lockfile records the same range as package.json', () => {
    expect(lock.packages[''].engines.node).toBe(supported);
    expect(semver.validRange(supported)).not.toBeNull();
  });

  it('every installed package accepts every Node version the project claims to support', () => {
    const narrower = installed.flatMap(({ name, entry }) => {
      const range = (entry.engines as { node?: string } | undefined)?.node;
      if (!range || !semver.validRange(range)) return [];
      return semver.subset(supported, range, { includePrerelease: false }) ? [] : [`${name}: ${range}`];
    });
    expect(narrower).toEqual([]);
  });

  it('includes Node 20 from 20.19 and the LTS lines after it', () => {
    for (const v of ['20.19.0', '20.20.2', '22.13.0', '22.22.3', '24.0.0', '24.15.0', '26.0.0'])
      expect(semver.satisfies(v, supported)).toBe(true);
  });
});
