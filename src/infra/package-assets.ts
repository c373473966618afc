import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cache = new Map<string, string>();

/**
 * A file shipped inside an installed npm package (e.g. 'uplot/dist/uPlot.iife.min.js'), read once and
 * kept: the pages serve such files themselves instead of sending browsers to a CDN.
 */
export function packageFile(specifier: string): string {
  let text = cache.get(specifier);
  if (text === undefined) {
    text = readFileSync(require.resolve(specifier), 'utf8');
    cache.set(specifier, text);
  }
  return text;
}
