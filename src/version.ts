import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest package.json above this file (dist/, dist/bundle/ or src/ all sit below the project root). */
function findPackageJson(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'package.json');
    if (dirname(dir) === dir) throw new Error('package.json not found above ' + import.meta.url);
  }
}

/** The package version, read once at start-up. */
export const VERSION: string = JSON.parse(readFileSync(findPackageJson(), 'utf8')).version;
