import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/** Writing an env file failed or was refused (it exists): the message says what to do. */
export class EnvFileError extends Error {}

/**
 * Reads KEY=value lines (the format of Node's --env-file, systemd's EnvironmentFile and docker compose's
 * env_file) into process.env. A variable already set in the environment wins over the file.
 */
export function loadEnvFile(path: string): void {
  try {
    process.loadEnvFile(path);
  } catch (e) {
    throw new ConfigError(`--env: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Writes `values` (NAME -> value) to an env file readable by its owner only (mode 600). A new file is
 * created exclusively; an existing one is refused unless `replace`, and then only the lines of those
 * names are replaced: the rest of the file (SSH settings, comments) stays as it was.
 */
export function writeEnvFile(path: string, header: string, values: Record<string, string>, replace: boolean): 'created' | 'updated' {
  const assignments = Object.entries(values).map(([name, value]) => `${name}=${value}`);
  if (!existsSync(path)) {
    try {
      writeFileSync(path, `${header}\n${assignments.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new EnvFileError(`cannot create ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    chmodSync(path, 0o600); // the mode given at creation is narrowed by the umask, never widened; make it exact
    return 'created';
  }
  if (!replace) throw new EnvFileError(`${path} already exists; pass --force to replace the keys in it (its other lines are kept)`);
  const names = new Set(Object.keys(values));
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !names.has(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] ?? ''));
  while (kept.length && kept[kept.length - 1].trim() === '') kept.pop();
  // A temp file beside it, then a rename: the keys are never in a file others can read, not even briefly.
  const temp = join(dirname(path), `.${Date.now()}-${process.pid}.env.tmp`);
  writeFileSync(temp, `${[...kept, ...assignments].join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
  return 'updated';
}
