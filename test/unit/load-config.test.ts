import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { configErrorOf as error } from '../support/errors.js';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const yamlFile = (text: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-cfg-'));
  tempDirs.push(dir);
  writeFileSync(`${dir}/c.yaml`, text);
  return `${dir}/c.yaml`;
};

describe('loadConfig', () => {
  it('defaults to one local host on loopback with no keys', () => {
    const c = loadConfig({ HOME: '/home/me' });
    expect(c).toMatchObject({ port: 8000, bind_address: '127.0.0.1', keys: [], default_host: 'local', cors_origins: [] });
    expect(c.hosts).toHaveLength(1);
    expect(c.hosts[0]).toMatchObject({
      name: 'local',
      transport: 'local',
      ollama_url: 'http://127.0.0.1:11434',
      ollama_tunnel: false,
      files_root: '/home/me',
    });
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

  it('builds an ssh host from the environment, with the documented defaults', () => {
    const c = loadConfig({ HOME: '/home/me', USER: 'me', SSH_HOST: '10.0.1.201', SSH_USER: 'ccpm', API_KEY: 'k'.repeat(20) });
    expect(c.default_host).toBe('default');
    expect(c.hosts[0]).toMatchObject({
      name: 'default',
      transport: 'ssh',
      // Through the SSH connection, as the GPU host sees it: Ollama stays on its loopback.
      ollama_url: 'http://127.0.0.1:11434',
      ollama_tunnel: true,
      files_root: undefined,
      ssh: {
        host: '10.0.1.201',
        port: 22,
        user: 'ccpm',
        private_key_path: '/home/me/.ssh/id_ed25519',
        known_hosts: '/home/me/.ssh/known_hosts',
        max_channels: 8,
        max_connections: 2,
        warm_shells: true,
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
    expect(error({ PORT: 'x' })).toBe('PORT / server.port: "x" is not a number');
    expect(error({ SSH_HOST: 'h', SSH_PORT: '99999' })).toBe('SSH_PORT / hosts.default.ssh.port: must not be greater than 65535');
    expect(error({ SHELL_ENABLED: 'maybe' })).toBe('SHELL_ENABLED / hosts.local.shell.enabled: "maybe" is not true or false');
    expect(error({ SSH_PORT: '22' })).toMatch(/^SSH_PORT: is set but SSH_HOST is not/);
    expect(error({ OLLAMA_URL: 'ftp://x' })).toMatch(/^OLLAMA_URL \/ hosts\.local\.ollama\.url: must be an http/);
    expect(error({ API_KEY: 'short' })).toMatch(/^API_KEY: must be at least 16 characters/);
    expect(error({ BIND_ADDRESS: '0.0.0.0' })).toMatch(/^BIND_ADDRESS \/ server\.bind_address: .*API_KEY/);
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  a:\n    shell: {deny: ["("]}\n') })).toMatch(
      /^hosts\.a\.shell\.deny\[0\]: not a valid regular expression/,
    );
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  a: {transport: ssh}\n') })).toMatch(/^hosts\.a\.ssh: /);
    expect(error({ CONFIG_FILE: yamlFile('nonsense: 1\n') })).toBe('nonsense: unknown key');
    expect(error({ CONFIG_FILE: yamlFile('default_host: zzz\nhosts:\n  a: {}\n') })).toMatch(
      /^default_host \(env DEFAULT_HOST\): no host named "zzz"/,
    );
    expect(error({ CONFIG_FILE: '/nonexistent.yaml' })).toMatch(/^CONFIG_FILE: cannot read/);
    expect(error({ CONFIG_FILE: yamlFile('a: [\n') })).toMatch(/^CONFIG_FILE: .* is not valid YAML/);
  });

  it('names the environment variable as well as the YAML key, whichever of them set the value', () => {
    expect(error({ SSH_HOST: 'h', SSH_HOST_KEY_FINGERPRINT: 'MD5:aa' })).toBe(
      'SSH_HOST_KEY_FINGERPRINT / hosts.default.ssh.host_key_fingerprint: must look like SHA256:<43 base64 characters>',
    );
    const fromYaml = yamlFile('hosts:\n  gpu:\n    ssh: {host: h, host_key_fingerprint: "MD5:aa"}\n');
    expect(error({ CONFIG_FILE: fromYaml })).toBe(
      'hosts.gpu.ssh.host_key_fingerprint (env SSH_HOST_KEY_FINGERPRINT): must look like SHA256:<43 base64 characters>',
    );
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  box: {nvidia_smi_path: ""}\n') })).toBe(
      'hosts.box.nvidia_smi_path (env NVIDIA_SMI_PATH): must be longer than or equal to 1 characters',
    );
    expect(error({ CONFIG_FILE: yamlFile('server: {port: 70000}\n') })).toBe('server.port (env PORT): must not be greater than 65535');
    expect(error({ CONFIG_FILE: yamlFile('server: {port: eighty}\n') })).toBe('server.port (env PORT): "eighty" is not a number');
    expect(error({ PORT: '80a' })).toBe('PORT / server.port: "80a" is not a number');
    expect(error({ PORT: 'x'.repeat(100) })).toMatch(/^PORT \/ server\.port: "x{40}…" is not a number$/);
  });

  it('says "required" for a missing key, not the rules a value would have to follow', () => {
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  gpu:\n    ssh: {port: 22}\n') })).toBe('hosts.gpu.ssh.host (env SSH_HOST): required');
    expect(error({ CONFIG_FILE: yamlFile('keys:\n  admin: {key: "0123456789abcdef0123"}\n') })).toBe('keys.admin.scopes: required');
  });

  it('names the nearest known key for an unknown one', () => {
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  gpu: {nvidia_smi: /usr/bin/nvidia-smi}\n') })).toBe(
      'hosts.gpu.nvidia_smi: unknown key (did you mean nvidia_smi_path?)',
    );
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  gpu:\n    ssh: {host: h, prot: 22}\n') })).toBe(
      'hosts.gpu.ssh.prot: unknown key (did you mean port?)',
    );
    expect(error({ CONFIG_FILE: yamlFile('sever: {port: 1}\n') })).toBe('sever: unknown key (did you mean server?)');
    expect(error({ CONFIG_FILE: yamlFile('zzzzzz: 1\n') })).toBe('zzzzzz: unknown key');
  });

  it('says what YAML did to an unquoted digest or key, and how to fix it', () => {
    const zeros = '0'.repeat(64);
    expect(error({ CONFIG_FILE: yamlFile(`keys:\n  admin: {sha256: ${zeros}, scopes: [read]}\n`) })).toBe(
      'keys.admin.sha256: must be 64 lowercase hex characters; YAML read this as the number 0: quote the value',
    );
    expect(error({ CONFIG_FILE: yamlFile('keys:\n  admin: {key: 12345678901234567890, scopes: [read]}\n') })).toMatch(
      /^keys\.admin\.key: .*; YAML read this as the number 12345678901234567000: quote the value$/,
    );
    expect(error({ CONFIG_FILE: yamlFile('hosts:\n  gpu: {ssh: {host: h, user: true}}\n') })).toMatch(
      /^hosts\.gpu\.ssh\.user \(env SSH_USER\): .*; YAML read this as true: quote the value$/,
    );
    // Quoted, the same digest is accepted.
    const quoted = loadConfig({ CONFIG_FILE: yamlFile(`keys:\n  admin: {sha256: "${zeros}", scopes: [read]}\n`) });
    expect(quoted.keys).toEqual([{ name: 'admin', sha256: zeros, scopes: ['read'] }]);
  });

  it('gpu: sampler on, 1 s readings, 10 minutes idle, history auto by default; YAML and env set them', () => {
    expect(loadConfig({ HOME: '/h' }).gpu).toEqual({ sampler: true, sample_interval_ms: 1000, sampler_idle_seconds: 600, history: 'auto' });
    const file = yamlFile("gpu: {sampler: 'off', sample_interval_ms: 2000, sampler_idle_seconds: 30, history: always}\n");
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: file }).gpu).toEqual({
      sampler: false,
      sample_interval_ms: 2000,
      sampler_idle_seconds: 30,
      history: 'always',
    });
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: file, GPU_SAMPLER: 'ON', GPU_SAMPLER_IDLE_SECONDS: '5' }).gpu).toMatchObject({
      sampler: true,
      sampler_idle_seconds: 5,
    });
  });

  it('gpu: a bad value stops with one line naming the key', () => {
    expect(error({ HOME: '/h', GPU_SAMPLER: 'maybe' })).toMatch(/^GPU_SAMPLER \/ gpu\.sampler: /);
    expect(error({ HOME: '/h', GPU_SAMPLE_INTERVAL_MS: '10' })).toMatch(/^GPU_SAMPLE_INTERVAL_MS \/ gpu\.sample_interval_ms: .*200/);
    expect(error({ HOME: '/h', GPU_SAMPLER_IDLE_SECONDS: 'soon' })).toMatch(/^GPU_SAMPLER_IDLE_SECONDS \/ gpu\.sampler_idle_seconds: /);
    expect(error({ HOME: '/h', GPU_HISTORY: 'forever' })).toMatch(/^GPU_HISTORY \/ gpu\.history: /);
    expect(error({ HOME: '/h', CONFIG_FILE: yamlFile('gpu: {sampler: 1}\n') })).toBe('gpu.sampler (env GPU_SAMPLER): must be on or off');
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: yamlFile('gpu:\n  sampler: off\n') }).gpu.sampler).toBe(false);
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: yamlFile('gpu:\n  sampler: false\n') }).gpu.sampler).toBe(false);
    expect(error({ HOME: '/h', CONFIG_FILE: yamlFile('gpu: {sampler_idle_seconds: 0}\n') })).toMatch(
      /^gpu\.sampler_idle_seconds \(env GPU_SAMPLER_IDLE_SECONDS\): /,
    );
  });

  it('allows a non-loopback bind address once a key exists', () => {
    expect(loadConfig({ BIND_ADDRESS: '0.0.0.0', API_KEY: 'x'.repeat(16) }).bind_address).toBe('0.0.0.0');
  });
  it('ollama_models_dir: from OLLAMA_MODELS_DIR or the YAML, absolute only, unset by default (found on the host)', () => {
    expect(loadConfig({ HOME: '/home/me' }).hosts[0].ollama_models_dir).toBeUndefined();
    expect(loadConfig({ HOME: '/home/me', OLLAMA_MODELS_DIR: '/data/ollama/models' }).hosts[0].ollama_models_dir).toBe(
      '/data/ollama/models',
    );
    expect(error({ HOME: '/home/me', OLLAMA_MODELS_DIR: 'models' })).toBe(
      'OLLAMA_MODELS_DIR / hosts.local.ollama_models_dir: must be an absolute path',
    );
    const dir = mkdtempSync(join(tmpdir(), 'ght-cfg-'));
    try {
      writeFileSync(join(dir, 'c.yaml'), 'hosts:\n  whisper:\n    ollama_models_dir: ~/models\n');
      expect(error({ HOME: '/home/me', CONFIG_FILE: join(dir, 'c.yaml') })).toBe(
        'hosts.whisper.ollama_models_dir (env OLLAMA_MODELS_DIR): must be an absolute path',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads files_protected_paths per host and refuses entries that are no path of names', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-cfg-protected-'));
    try {
      const file = path.join(dir, 'c.yaml');
      const write = (list: unknown) => writeFileSync(file, JSON.stringify({ hosts: { a: { files_protected_paths: list }, b: {} } }));
      write(['default', '~/secrets', '/srv/vault/', '.config/app']);
      const c = loadConfig({ HOME: '/home/me', CONFIG_FILE: file });
      expect(c.hosts.map((h) => h.files_protected_paths)).toEqual([['default', '~/secrets', '/srv/vault/', '.config/app'], undefined]);
      expect(
        loadConfig({ HOME: '/home/me', CONFIG_FILE: file, FILES_PROTECTED_PATHS: '.netrc, default' }).hosts[0].files_protected_paths,
      ).toEqual(['.netrc', 'default']);
      for (const bad of [['../etc'], ['.ssh/../x'], [''], ['a//b/./c'], ['/'], [42]]) {
        write(bad);
        expect(error({ HOME: '/home/me', CONFIG_FILE: file })).toMatch(/^hosts\.a\.files_protected_paths \(env FILES_PROTECTED_PATHS\): /);
      }
      expect(error({ HOME: '/home/me', FILES_PROTECTED_PATHS: '.ssh,..' })).toMatch(
        /^FILES_PROTECTED_PATHS \/ hosts\.local\.files_protected_paths: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loadConfig: Ollama through the SSH connection', () => {
  const ssh = { HOME: '/h', USER: 'me', SSH_HOST: '10.0.1.201' };
  const ollamaOf = (env: NodeJS.ProcessEnv) => {
    const h = loadConfig(env).hosts[0]!;
    return { url: h.ollama_url, tunnel: h.ollama_tunnel };
  };

  it('environment: OLLAMA_URL is the address on the host; OLLAMA_TUNNEL=false dials it directly', () => {
    expect(ollamaOf({ ...ssh, OLLAMA_URL: 'http://127.0.0.1:11500/' })).toEqual({ url: 'http://127.0.0.1:11500', tunnel: true });
    // Without the tunnel and without a URL, Ollama is looked for on the SSH host's address, as before.
    expect(ollamaOf({ ...ssh, OLLAMA_TUNNEL: 'false' })).toEqual({ url: 'http://10.0.1.201:11434', tunnel: false });
    expect(ollamaOf({ ...ssh, SSH_HOST: 'fe80::1', OLLAMA_TUNNEL: 'no' })).toEqual({ url: 'http://[fe80::1]:11434', tunnel: false });
    expect(ollamaOf({ ...ssh, OLLAMA_TUNNEL: 'true' })).toEqual({ url: 'http://127.0.0.1:11434', tunnel: true });
    // A local host has no SSH connection to tunnel through.
    expect(ollamaOf({ HOME: '/h', OLLAMA_TUNNEL: 'true' })).toEqual({ url: 'http://127.0.0.1:11434', tunnel: false });
  });

  it('YAML: ollama.url and ollama.tunnel per host, the older ollama_url still read, the environment on top', () => {
    const file = yamlFile(
      'hosts:\n' +
        '  a: {ssh: {host: gpu-a}, ollama: {url: "http://127.0.0.1:11434"}}\n' +
        '  b: {ssh: {host: gpu-b}, ollama: {tunnel: false}}\n' +
        '  c: {ssh: {host: gpu-c}, ollama_url: "http://10.0.0.3:11434"}\n' +
        '  d: {transport: local, ollama: {url: "https://ollama.lan"}}\n',
    );
    const hosts = loadConfig({ HOME: '/h', CONFIG_FILE: file }).hosts.map((h) => [h.name, h.ollama_url, h.ollama_tunnel]);
    expect(hosts).toEqual([
      ['a', 'http://127.0.0.1:11434', true],
      ['b', 'http://gpu-b:11434', false],
      ['c', 'http://10.0.0.3:11434', true],
      ['d', 'https://ollama.lan', false],
    ]);
    // OLLAMA_URL replaces the file's value whichever spelling the file used.
    const env = { HOME: '/h', CONFIG_FILE: file, HOST_NAME: 'c', OLLAMA_URL: 'http://127.0.0.1:9' };
    expect(loadConfig(env).hosts.find((h) => h.name === 'c')!.ollama_url).toBe('http://127.0.0.1:9');
  });

  it('refuses what cannot work, naming the variable or the YAML path', () => {
    expect(error({ ...ssh, OLLAMA_TUNNEL: 'maybe' })).toBe('OLLAMA_TUNNEL / hosts.default.ollama.tunnel: "maybe" is not true or false');
    expect(error({ ...ssh, OLLAMA_URL: 'ftp://x' })).toBe('OLLAMA_URL / hosts.default.ollama.url: must be an http:// or https:// URL');
    expect(error({ ...ssh, OLLAMA_URL: 'https://127.0.0.1:11434' })).toBe(
      'OLLAMA_URL / hosts.default.ollama.url: https:// cannot be used through the SSH connection (it already encrypts); use http://, or set OLLAMA_TUNNEL=false (ollama.tunnel: false) to connect directly',
    );
    expect(ollamaOf({ ...ssh, OLLAMA_URL: 'https://gpu:11434', OLLAMA_TUNNEL: 'false' })).toEqual({
      url: 'https://gpu:11434',
      tunnel: false,
    });
    const both = yamlFile('hosts:\n  a: {ssh: {host: g}, ollama_url: "http://x:1", ollama: {url: "http://y:2"}}\n');
    expect(error({ HOME: '/h', CONFIG_FILE: both })).toBe('hosts.a: give ollama.url or ollama_url (its older spelling), not both');
    const typo = yamlFile('hosts:\n  a: {ssh: {host: g}, ollama: {tunel: false}}\n');
    expect(error({ HOME: '/h', CONFIG_FILE: typo })).toMatch(/^hosts\.a\.ollama\.tunel: /);
    const notBool = yamlFile('hosts:\n  a: {ssh: {host: g}, ollama: {tunnel: "off"}}\n');
    expect(error({ HOME: '/h', CONFIG_FILE: notBool })).toBe('hosts.a.ollama.tunnel (env OLLAMA_TUNNEL): "off" is not true or false');
  });
});

describe('loadConfig: DEFAULT_HOST and MCP_STDIO_KEY', () => {
  it('reads DEFAULT_HOST over the file and MCP_STDIO_KEY as given, an empty value as unset', () => {
    const file = yamlFile('default_host: a\nhosts:\n  a: {transport: local}\n  b: {transport: local}\n');
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: file }).default_host).toBe('a');
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: file, DEFAULT_HOST: 'b' }).default_host).toBe('b');
    expect(loadConfig({ HOME: '/h', CONFIG_FILE: file, DEFAULT_HOST: '' }).default_host).toBe('a');
    expect(error({ HOME: '/h', CONFIG_FILE: file, DEFAULT_HOST: 'c' })).toBe(
      'DEFAULT_HOST / default_host: no host named "c" (hosts: a, b)',
    );

    expect(loadConfig({ HOME: '/h' }).mcp_stdio_key).toBeUndefined();
    expect(loadConfig({ HOME: '/h', MCP_STDIO_KEY: '' }).mcp_stdio_key).toBeUndefined();
    // Kept as given: the stdio start trims it and refuses a key that matches none of the configured ones.
    expect(loadConfig({ HOME: '/h', MCP_STDIO_KEY: ' k-0123456789 ' }).mcp_stdio_key).toBe(' k-0123456789 ');
  });
});

describe('loadConfig: results.default_max_bytes', () => {
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
    expect(error({ HOME: '/home/me', RESULTS_DEFAULT_MAX_BYTES: '100' })).toMatch(/RESULTS_DEFAULT_MAX_BYTES/);
    expect(error({ HOME: '/home/me', RESULTS_DEFAULT_MAX_BYTES: 'lots' })).toMatch(/RESULTS_DEFAULT_MAX_BYTES/);
    const file = yamlFile('hosts:\n  a:\n    transport: local\n    results:\n      default_max_bytes: 99999999999\n');
    expect(error({ HOME: '/home/me', CONFIG_FILE: file })).toMatch(/hosts\.a\.results\.default_max_bytes/);
    const unknown = yamlFile('hosts:\n  a:\n    transport: local\n    results:\n      max: 1\n');
    expect(error({ HOME: '/home/me', CONFIG_FILE: unknown })).toMatch(/hosts\.a\.results\.max/);
  });
});
