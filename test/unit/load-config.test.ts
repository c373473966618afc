import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';

const yamlFile = (text: string) => {
  const dir = mkdtempSync('/tmp/ght-cfg-');
  writeFileSync(`${dir}/c.yaml`, text);
  return `${dir}/c.yaml`;
};
const error = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('defaults to one local host on loopback with no keys', () => {
    const c = loadConfig({ HOME: '/home/me' });
    expect(c).toMatchObject({ port: 8000, bind_address: '127.0.0.1', keys: [], default_host: 'local', cors_origins: [] });
    expect(c.hosts).toHaveLength(1);
    expect(c.hosts[0]).toMatchObject({ name: 'local', transport: 'local', ollama_url: 'http://127.0.0.1:11434', files_root: '/home/me' });
    expect(c.hosts[0].shell).toEqual({
      enabled: true,
      default_timeout_seconds: 60,
      max_timeout_seconds: 400,
      max_output_bytes: 65536,
      max_read_bytes: 16777216,
      allow: [],
      deny: [],
    });
  });

  it('builds an ssh host from the environment, with DESIGN defaults', () => {
    const c = loadConfig({ HOME: '/home/me', USER: 'me', SSH_HOST: '10.0.1.201', SSH_USER: 'ccpm', API_KEY: 'k'.repeat(20) });
    expect(c.default_host).toBe('default');
    expect(c.hosts[0]).toMatchObject({
      name: 'default',
      transport: 'ssh',
      ollama_url: 'http://10.0.1.201:11434',
      files_root: undefined,
      ssh: {
        host: '10.0.1.201',
        port: 22,
        user: 'ccpm',
        private_key_path: '/home/me/.ssh/id_ed25519',
        known_hosts: '/home/me/.ssh/known_hosts',
        max_channels: 8,
        max_connections: 2,
      },
    });
    expect(c.keys).toEqual([
      { name: 'api_key', sha256: createHash('sha256').update('k'.repeat(20)).digest('hex'), scopes: ['read', 'write', 'shell'] },
    ]);
  });

  it('reads several hosts and hashed keys from YAML, with environment values on top', () => {
    const file = yamlFile(
      `server: {port: 9000}\nkeys:\n  ops: {sha256: ${'a'.repeat(64)}, scopes: [read, write]}\ndefault_host: b\nhosts:\n  a: {transport: local}\n  b:\n    ssh: {host: gpu.lan, user: ccpm}\n    shell: {enabled: false}\n`,
    );
    const c = loadConfig({ HOME: '/h', CONFIG_FILE: file, PORT: '9100', READONLY_API_KEY: 'r'.repeat(16) });
    expect(c.port).toBe(9100);
    expect(c.default_host).toBe('b');
    expect(c.hosts.map((h) => [h.name, h.transport])).toEqual([
      ['a', 'local'],
      ['b', 'ssh'],
    ]);
    expect(c.hosts[1].shell.enabled).toBe(false);
    expect(c.keys.map((k) => [k.name, k.scopes])).toEqual([
      ['ops', ['read', 'write']],
      ['readonly_api_key', ['read']],
    ]);
  });

  it('names the environment variable or YAML path of a bad value in one line', () => {
    expect(error({ PORT: 'x' })).toMatch(/^PORT: /);
    expect(error({ SSH_HOST: 'h', SSH_PORT: '99999' })).toMatch(/^SSH_PORT: must not be greater than 65535/);
    expect(error({ SHELL_ENABLED: 'maybe' })).toMatch(/^SHELL_ENABLED: /);
    expect(error({ SSH_PORT: '22' })).toMatch(/^SSH_PORT: is set but SSH_HOST is not/);
    expect(error({ OLLAMA_URL: 'ftp://x' })).toMatch(/^OLLAMA_URL: must be an http/);
    expect(error({ API_KEY: 'short' })).toMatch(/^API_KEY: must be at least 16 characters/);
    expect(error({ BIND_ADDRESS: '0.0.0.0' })).toMatch(/^BIND_ADDRESS: .*API_KEY/);
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  a:\n    shell: {deny: ["("]}\n') })).toMatch(
      /^hosts\.a\.shell\.deny\[0\]: not a valid regular expression/,
    );
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  a: {transport: ssh}\n') })).toMatch(/^hosts\.a\.ssh: /);
    expect(error({ CONFIG_FILE: yamlFile('nonsense: 1\n') })).toMatch(/^nonsense: /);
    expect(error({ CONFIG_FILE: yamlFile('default_host: zzz\nhosts:\n  a: {}\n') })).toMatch(/^default_host: no host named "zzz"/);
    expect(error({ CONFIG_FILE: '/nonexistent.yaml' })).toMatch(/^CONFIG_FILE: cannot read/);
    expect(error({ CONFIG_FILE: yamlFile('a: [\n') })).toMatch(/^CONFIG_FILE: .* is not valid YAML/);
  });

  it('allows a non-loopback bind address once a key exists', () => {
    expect(loadConfig({ BIND_ADDRESS: '0.0.0.0', API_KEY: 'x'.repeat(16) }).bind_address).toBe('0.0.0.0');
  });
});
