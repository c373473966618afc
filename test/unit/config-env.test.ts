/** The environment table and overlay (src/config/config-env.ts), checked against the README and the loader. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyEnvironment, ENV_VARIABLES, keyLabel } from '../../src/config/config-env.js';
import type { AppConfig } from '../../src/config/config.types.js';
import { loadConfig } from '../../src/config/load-config.js';
import { configErrorOf } from '../support/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-config-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const yamlFile = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const NAMES = ENV_VARIABLES.map((v) => v.name);

/** The variable names in the first column of the README's configuration table. */
function readmeVariables(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('README has no "## Configuration" section');
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const names = rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
  return names.filter((n) => /^[A-Z][A-Z0-9_]*$/.test(n));
}

describe('ENV_VARIABLES', () => {
  it('lists each variable once, and exactly the variables the README configuration table lists', () => {
    expect(new Set(NAMES).size).toBe(NAMES.length);
    const documented = readmeVariables();
    expect(new Set(documented).size, 'a variable has two rows in the README').toBe(documented.length);
    expect([...documented].sort()).toEqual([...NAMES].sort());
  });

  const BASE = { HOME: '/h', USER: 'me', SSH_HOST: 'gpu' };
  const host = (c: AppConfig) => c.hosts.at(-1)!;
  const fingerprint = 'SHA256:' + 'Ab+/'.repeat(10) + 'xyz';
  const twoHosts = yamlFile('two.yaml', 'hosts:\n  a: {transport: local}\n  b: {transport: local}\n');
  /** What each variable is documented to do, written out independently of the table. */
  const EFFECTS: Record<string, { value: string; of: (c: AppConfig) => unknown; is: unknown; env?: NodeJS.ProcessEnv }> = {
    CONFIG_FILE: { value: twoHosts, of: (c) => c.hosts.map((h) => h.name), is: ['a', 'b', 'default'] },
    PORT: { value: ' 8123', of: (c) => c.port, is: 8123 },
    BIND_ADDRESS: { value: '127.0.0.2', of: (c) => c.bind_address, is: '127.0.0.2' },
    CORS_ORIGINS: { value: 'http://a:3000, ,http://b', of: (c) => c.cors_origins, is: ['http://a:3000', 'http://b'] },
    ALLOWED_HOSTS: { value: 'tools.lan , gpu:8000', of: (c) => c.allowed_hosts, is: ['tools.lan', 'gpu:8000'] },
    AUDIT_LOG: { value: '/var/log/ght.jsonl', of: (c) => c.audit_log, is: '/var/log/ght.jsonl' },
    LOG_LEVEL: { value: ' DEBUG', of: (c) => c.log_level, is: 'debug' },
    GPU_SAMPLER: { value: 'Off', of: (c) => c.gpu.sampler, is: false },
    GPU_SAMPLE_INTERVAL_MS: { value: '2000', of: (c) => c.gpu.sample_interval_ms, is: 2000 },
    GPU_SAMPLER_IDLE_SECONDS: { value: '5', of: (c) => c.gpu.sampler_idle_seconds, is: 5 },
    GPU_HISTORY: { value: 'ALWAYS', of: (c) => c.gpu.history, is: 'always' },
    API_KEY: { value: 'k'.repeat(16), of: (c) => c.keys.map((k) => [k.name, k.scopes]), is: [['api_key', ['read', 'write', 'shell']]] },
    READONLY_API_KEY: { value: 'r'.repeat(16), of: (c) => c.keys.map((k) => [k.name, k.scopes]), is: [['readonly_api_key', ['read']]] },
    DEFAULT_HOST: { value: 'b', env: { CONFIG_FILE: twoHosts }, of: (c) => c.default_host, is: 'b' },
    MCP_STDIO_KEY: { value: 'ops', of: (c) => c.mcp_stdio_key, is: 'ops' },
    HOST_NAME: { value: 'box', of: (c) => host(c).name, is: 'box' },
    SSH_HOST: { value: 'gpu2.lan', of: (c) => host(c).ssh?.host, is: 'gpu2.lan' },
    SSH_PORT: { value: '2222', of: (c) => host(c).ssh?.port, is: 2222 },
    SSH_USER: { value: 'ccpm', of: (c) => host(c).ssh?.user, is: 'ccpm' },
    SSH_PRIVATE_KEY_PATH: { value: '~/keys/gpu', of: (c) => host(c).ssh?.private_key_path, is: '/h/keys/gpu' },
    SSH_PASSPHRASE: { value: 'correct horse', of: (c) => host(c).ssh?.passphrase, is: 'correct horse' },
    SSH_KNOWN_HOSTS: { value: '/etc/ght/known_hosts', of: (c) => host(c).ssh?.known_hosts, is: '/etc/ght/known_hosts' },
    SSH_HOST_KEY_FINGERPRINT: { value: fingerprint, of: (c) => host(c).ssh?.host_key_fingerprint, is: fingerprint },
    OLLAMA_URL: { value: 'http://127.0.0.1:11500/', of: (c) => host(c).ollama_url, is: 'http://127.0.0.1:11500' },
    OLLAMA_TUNNEL: { value: 'no', of: (c) => [host(c).ollama_tunnel, host(c).ollama_url], is: [false, 'http://gpu:11434'] },
    FILES_ROOT: { value: '/srv/data', of: (c) => host(c).files_root, is: '/srv/data' },
    FILES_PROTECTED_PATHS: { value: '.netrc, default', of: (c) => host(c).files_protected_paths, is: ['.netrc', 'default'] },
    SHELL_ENABLED: { value: 'off', of: (c) => host(c).shell.enabled, is: false },
    NVIDIA_SMI_PATH: { value: '/opt/bin/nvidia-smi', of: (c) => host(c).nvidia_smi_path, is: '/opt/bin/nvidia-smi' },
    OLLAMA_MODELS_DIR: { value: '/data/ollama', of: (c) => host(c).ollama_models_dir, is: '/data/ollama' },
    RESULTS_DEFAULT_MAX_BYTES: { value: '65536', of: (c) => host(c).results.default_max_bytes, is: 65536 },
  };

  it('every variable sets what it is documented to set, and nothing without it', () => {
    expect(Object.keys(EFFECTS).sort()).toEqual([...NAMES].sort());
    for (const [name, { value, of, is, env }] of Object.entries(EFFECTS)) {
      const without = { ...BASE, ...env };
      expect(of(loadConfig({ ...without, [name]: value })), name).toEqual(is);
      expect(of(loadConfig(without)), name).not.toEqual(is);
    }
  });

  it('an empty variable counts as unset, whichever it is', () => {
    for (const name of NAMES) {
      const unset: NodeJS.ProcessEnv = { ...BASE };
      delete unset[name];
      expect(loadConfig({ ...BASE, [name]: '' }), name).toEqual(loadConfig(unset));
    }
  });

  it('a bad value names the variable and the YAML key it sets', () => {
    const bad: Record<string, string> = {
      PORT: 'PORT / server.port: "80a" is not a number',
      SSH_PORT: 'SSH_PORT / hosts.default.ssh.port: "80a" is not a number',
      GPU_SAMPLE_INTERVAL_MS: 'GPU_SAMPLE_INTERVAL_MS / gpu.sample_interval_ms: "80a" is not a number',
      RESULTS_DEFAULT_MAX_BYTES: 'RESULTS_DEFAULT_MAX_BYTES / hosts.default.results.default_max_bytes: "80a" is not a number',
    };
    for (const [name, message] of Object.entries(bad)) expect(configErrorOf({ ...BASE, [name]: '80a' }), name).toBe(message);
  });
});

describe('applyEnvironment', () => {
  it('writes each value at its YAML key and records which variable set it', () => {
    const raw: Record<string, any> = {};
    const origins = applyEnvironment(raw, { PORT: '9000', SSH_HOST: 'gpu', SSH_PORT: '2222', API_KEY: 'k'.repeat(16), HOME: '/h' });
    expect(raw).toEqual({
      server: { port: 9000 },
      keys: { api_key: { key: 'k'.repeat(16), scopes: ['read', 'write', 'shell'] } },
      hosts: { default: { transport: 'ssh', ssh: { host: 'gpu', port: 2222 } } },
    });
    expect(Object.fromEntries(origins)).toEqual({
      'server.port': 'PORT',
      'keys.api_key': 'API_KEY',
      'hosts.default.transport': 'SSH_HOST',
      'hosts.default.ssh.host': 'SSH_HOST',
      'hosts.default.ssh.port': 'SSH_PORT',
    });
  });

  it('leaves the hosts of a file alone unless a host variable is set, and then adds to the file default host', () => {
    const file = () => ({ default_host: 'a', hosts: { a: { transport: 'local' }, b: { ssh: { host: 'gpu-b' } } } });
    const untouched = file();
    applyEnvironment(untouched, { PORT: '1', DEFAULT_HOST: 'b' });
    expect(untouched).toEqual({ ...file(), default_host: 'b', server: { port: 1 } });
    // The file's default host, not DEFAULT_HOST: the variables say which host calls go to, not which one they describe.
    const added = file();
    applyEnvironment(added, { DEFAULT_HOST: 'b', NVIDIA_SMI_PATH: '/x' });
    expect(added.hosts).toEqual({ a: { transport: 'local', nvidia_smi_path: '/x' }, b: { ssh: { host: 'gpu-b' } } });
    // SSH_* settings need an SSH host: one from the file counts.
    const named = file();
    applyEnvironment(named, { HOST_NAME: 'b', SSH_PORT: '2200' });
    expect(named.hosts.b).toEqual({ ssh: { host: 'gpu-b', port: 2200 } });
    expect(() => applyEnvironment(file(), { HOST_NAME: 'a', SSH_PORT: '2200' })).toThrow(
      'SSH_PORT: is set but SSH_HOST is not; set SSH_HOST to manage a host over SSH',
    );
  });

  it('a host name from the environment cannot reach Object.prototype, and "constructor" is an ordinary name', () => {
    expect(configErrorOf({ HOME: '/h', HOST_NAME: '__proto__', NVIDIA_SMI_PATH: '/x' })).toBe(
      'HOST_NAME: must be letters, digits, - or _ (got "__proto__")',
    );
    const poisoned = yamlFile('proto.yaml', 'default_host: __proto__\nhosts:\n  a: {}\n');
    expect(configErrorOf({ HOME: '/h', CONFIG_FILE: poisoned, NVIDIA_SMI_PATH: '/x' })).toBe(
      'default_host (env DEFAULT_HOST): no host named "__proto__" (hosts: a)',
    );
    expect(({} as Record<string, unknown>).nvidia_smi_path).toBeUndefined();
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(loadConfig({ HOME: '/h', HOST_NAME: name, SHELL_ENABLED: 'false' }).hosts.map((h) => [h.name, h.shell.enabled])).toEqual([
        [name, false],
      ]);
      expect(loadConfig({ HOME: '/h', HOST_NAME: name }).hosts.map((h) => h.name)).toEqual([name]);
    }
    const fromFile = yamlFile('ctor.yaml', 'hosts:\n  constructor: {}\nkeys:\n  constructor: {key: "0123456789abcdef", scopes: [read]}\n');
    const c = loadConfig({ HOME: '/h', CONFIG_FILE: fromFile });
    expect([c.hosts.map((h) => h.name), c.keys.map((k) => k.name)]).toEqual([['constructor'], ['constructor']]);
  });
});

describe('keyLabel', () => {
  it('names the variable that set a value first, the variable that could have second, and keys by variable only', () => {
    const origins = new Map([
      ['hosts.default.ssh.port', 'SSH_PORT'],
      ['keys.api_key', 'API_KEY'],
    ]);
    expect(keyLabel(origins, 'hosts.default.ssh.port')).toBe('SSH_PORT / hosts.default.ssh.port');
    expect(keyLabel(origins, 'hosts.gpu.ssh.port')).toBe('hosts.gpu.ssh.port (env SSH_PORT)');
    expect(keyLabel(origins, 'hosts.gpu.ssh.host')).toBe('hosts.gpu.ssh.host (env SSH_HOST)');
    expect(keyLabel(origins, 'gpu.history')).toBe('gpu.history (env GPU_HISTORY)');
    expect(keyLabel(origins, 'keys.api_key.key')).toBe('API_KEY');
    // A key written in the file is not one API_KEY defines.
    expect(keyLabel(new Map(), 'keys.api_key')).toBe('keys.api_key');
    expect(keyLabel(origins, 'hosts.gpu.transport')).toBe('hosts.gpu.transport');
    expect(keyLabel(origins, 'hosts.gpu.ssh.port.extra')).toBe('hosts.gpu.ssh.port.extra');
  });
});
