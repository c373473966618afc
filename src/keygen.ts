import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { writeEnvFile } from './infra/env-file.js';

/** Where `gpu-host-tools keygen` writes when no --out is given (the working directory). */
export const DEFAULT_ENV_FILE = 'gpu-host-tools.env';

/** 24 random bytes as hex: 48 characters, easy to paste, far beyond guessing. */
const newKey = () => randomBytes(24).toString('hex');

/**
 * `gpu-host-tools keygen`: generates API_KEY and READONLY_API_KEY into an env file (mode 600) and returns
 * what to tell the user: where the keys are, how to start with them, what to paste into Open WebUI.
 */
export function keygen(out: string = DEFAULT_ENV_FILE, force = false): string {
  const path = resolve(out);
  const keys = { API_KEY: newKey(), READONLY_API_KEY: newKey() };
  const header = [
    '# gpu-host-tools keys, written by `gpu-host-tools keygen`. Keep this file private (mode 600).',
    '# API_KEY: scopes read, write, shell (admins). READONLY_API_KEY: scope read (everyone else).',
  ].join('\n');
  const outcome = writeEnvFile(path, header, keys, force);
  return [
    `${outcome === 'created' ? 'Wrote' : 'Replaced'} API_KEY and READONLY_API_KEY in ${path} (mode 600).`,
    '',
    'Start the server with them:',
    `  npm start -- --env ${path}        (or: node dist/bundle/cli.js serve --env ${path})`,
    '',
    'In Open WebUI: Admin Settings > External Tools > + (Add Connection), type OpenAPI, Auth: Bearer. Paste:',
    `  for admins, spec path openapi.json:                  ${keys.API_KEY}`,
    `  for everyone else, spec path openapi/readonly.json:  ${keys.READONLY_API_KEY}`,
    '',
    `They stay in ${path}; run keygen --force to replace them.`,
  ].join('\n');
}
