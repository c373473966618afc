/** The table of defaults (src/config/config-defaults.ts) against what an empty configuration loads and the README. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_DEFAULTS } from '../../src/config/config-defaults.js';
import { ENV_VARIABLES } from '../../src/config/config-env.js';
import { loadConfig } from '../../src/config/load-config.js';

describe('CONFIG_DEFAULTS', () => {
  it('is what an empty configuration loads, for a local host', () => {
    const c = loadConfig({ HOME: '/home/me' });
    const { server, gpu, shell, results, nvidia_smi_path, ollama } = CONFIG_DEFAULTS;
    expect(c).toEqual({
      ...server,
      keys: [],
      hosts: [
        {
          name: 'local',
          transport: 'local',
          ollama_url: `http://${ollama.address}:${ollama.port}`,
          ollama_tunnel: false,
          files_root: '/home/me',
          nvidia_smi_path,
          shell: { ...shell, allow: [], deny: [] },
          results,
        },
      ],
      default_host: 'local',
      cors_origins: [],
      allowed_hosts: [],
      gpu,
    });
  });

  it('is what an ssh host gets with only SSH_HOST set, the paths under the home', () => {
    const h = loadConfig({ HOME: '/home/me', USER: 'me', SSH_HOST: 'gpu.lan' }).hosts[0]!;
    const { ssh, ollama } = CONFIG_DEFAULTS;
    expect(h.ssh).toEqual({
      ...ssh,
      host: 'gpu.lan',
      user: 'me',
      private_key_path: ssh.private_key_path.replace('~', '/home/me'),
      known_hosts: ssh.known_hosts.replace('~', '/home/me'),
    });
    expect([h.ollama_url, h.ollama_tunnel]).toEqual([`http://${ollama.address}:${ollama.port}`, true]);
    // Without the tunnel Ollama is dialled on the SSH host itself, at its default port.
    const direct = loadConfig({ HOME: '/home/me', SSH_HOST: 'fe80::1', OLLAMA_TUNNEL: 'false' }).hosts[0]!;
    expect(direct.ollama_url).toBe(`http://[fe80::1]:${ollama.port}`);
    // Only the environment given is read: without USER the account is root.
    expect(loadConfig({ HOME: '/h', SSH_HOST: 'g' }).hosts[0]!.ssh!.user).toBe('root');
  });

  it('lowers the default command timeout to a smaller maximum, and refuses a default above the maximum', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-config-defaults-'));
    try {
      const shellOf = (yaml: string) => {
        writeFileSync(path.join(dir, 'c.yaml'), `hosts:\n  a:\n    shell: ${yaml}\n`);
        return loadConfig({ HOME: '/h', CONFIG_FILE: path.join(dir, 'c.yaml') }).hosts[0]!.shell;
      };
      expect(shellOf('{max_timeout_seconds: 30}')).toMatchObject({ default_timeout_seconds: 30, max_timeout_seconds: 30 });
      expect(shellOf('{max_timeout_seconds: 100}')).toMatchObject({
        default_timeout_seconds: CONFIG_DEFAULTS.shell.default_timeout_seconds,
        max_timeout_seconds: 100,
      });
      expect(() => shellOf('{default_timeout_seconds: 90, max_timeout_seconds: 30}')).toThrow(
        'hosts.a.shell.default_timeout_seconds: must not exceed max_timeout_seconds (30)',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('agrees with the defaults the README configuration table gives', () => {
    const readme = readFileSync('README.md', 'utf8')
      .split(/^## Configuration$/m)[1]!
      .split(/^## /m)[0]!;
    /** The default column of the variable's row, when it is one literal such as `8000`. */
    const documented = (name: string) => {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      return row ? /^ `([^`]+)` $/.exec(row.split('|')[2]!)?.[1] : undefined;
    };
    const lookup = (key: string): unknown =>
      key
        .replace(/^hosts\.\*\./, '')
        .split('.')
        .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], CONFIG_DEFAULTS);
    const compared: string[] = [];
    for (const v of ENV_VARIABLES) {
      if (!('key' in v)) continue;
      const value = lookup(v.key);
      const text = documented(v.name);
      if (value === undefined || text === undefined) continue;
      const spellings = value === true ? ['true', 'on'] : value === false ? ['false', 'off'] : [String(value)];
      expect(spellings, v.name).toContain(text);
      compared.push(v.name);
    }
    expect(compared.sort()).toEqual(
      [
        'PORT',
        'BIND_ADDRESS',
        'LOG_LEVEL',
        'GPU_SAMPLER',
        'GPU_SAMPLE_INTERVAL_MS',
        'GPU_SAMPLER_IDLE_SECONDS',
        'GPU_HISTORY',
        'SSH_PRIVATE_KEY_PATH',
        'SSH_KNOWN_HOSTS',
        'SHELL_ENABLED',
        'NVIDIA_SMI_PATH',
        'RESULTS_DEFAULT_MAX_BYTES',
      ].sort(),
    );
  });
});
