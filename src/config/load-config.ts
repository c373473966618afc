import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { applyEnvironment, envValue, keyLabel, type Origins } from './config-env.js';
import { ConfigError } from './config-error.js';
import { RawConfig, RawGpu, RawHost, RawKey, RawServer, readSection } from './config-schema.js';
import type { ApiKeyConfig, AppConfig, HostConfig } from './config.types.js';
import { bracketIpv6, HOST_NAME_PATTERN, isLoopback, parseHostAndPort } from './host-names.js';

/**
 * Reads configuration: YAML from CONFIG_FILE (if set) first, environment variables over it. Throws
 * ConfigError with one line naming the key (the env variable, or the YAML path) and what is wrong.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const configFile = envValue(env, 'CONFIG_FILE');
  const raw = configFile ? readYamlFile(configFile) : {};
  const origins = applyEnvironment(raw, env);

  const top = check(RawConfig, raw, '', origins);
  const server = top.server ?? new RawServer();
  const gpu = top.gpu ?? new RawGpu();
  // HOME and USER are the account's, not settings of this server.
  const home = env.HOME || homedir();

  const keys = Object.entries((raw.keys ?? {}) as Record<string, unknown>).map(([name, value]) => resolveKey(name, value, origins));
  const hosts = Object.entries((raw.hosts ?? {}) as Record<string, unknown>).map(([name, value]) =>
    resolveHost(name, value, origins, home, env.USER),
  );
  if (hosts.length === 0) throw new ConfigError('hosts: at least one host is needed');

  const defaultHost = top.default_host ?? hosts[0].name;
  if (!hosts.some((h) => h.name === defaultHost)) {
    throw new ConfigError(
      `${keyLabel(origins, 'default_host')}: no host named "${defaultHost}" (hosts: ${hosts.map((h) => h.name).join(', ')})`,
    );
  }

  const bind = server.bind_address ?? CONFIG_DEFAULTS.server.bind_address;
  if (!isLoopback(bind) && keys.length === 0) {
    throw new ConfigError(
      `${keyLabel(origins, 'server.bind_address')}: ${bind} is not a loopback address, so an API key is required; set API_KEY (and READONLY_API_KEY for read-only users)`,
    );
  }

  (server.allowed_hosts ?? []).forEach((entry, i) => {
    if (!parseHostAndPort(entry)) {
      const where = origins.get('server.allowed_hosts') ?? `server.allowed_hosts[${i}]`;
      throw new ConfigError(
        `${where}: "${entry}" is not a host name, IP address or [IPv6] address with an optional :port (no scheme, path or spaces), e.g. gpu-host-tools:8000`,
      );
    }
  });

  const gpuDefaults = CONFIG_DEFAULTS.gpu;
  return {
    port: server.port ?? CONFIG_DEFAULTS.server.port,
    bind_address: bind,
    keys,
    hosts,
    default_host: defaultHost,
    cors_origins: server.cors_origins ?? [],
    allowed_hosts: server.allowed_hosts ?? [],
    audit_log: server.audit_log,
    log_level: server.log_level ?? CONFIG_DEFAULTS.server.log_level,
    gpu: {
      sampler: gpu.sampler === undefined ? gpuDefaults.sampler : gpu.sampler === 'on' || gpu.sampler === true,
      sample_interval_ms: gpu.sample_interval_ms ?? gpuDefaults.sample_interval_ms,
      sampler_idle_seconds: gpu.sampler_idle_seconds ?? gpuDefaults.sampler_idle_seconds,
      history: gpu.history ?? gpuDefaults.history,
    },
    mcp_stdio_key: envValue(env, 'MCP_STDIO_KEY'),
  };
}

function readYamlFile(file: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new ConfigError(`CONFIG_FILE: ${file} is not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`CONFIG_FILE: ${file} must hold a mapping`);
  return raw as Record<string, any>;
}

/** Validates one mapping of the YAML (at `path`) against its schema class, or stops naming the key. */
function check<T extends object>(cls: new () => T, value: unknown, path: string, origins: Origins): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${keyLabel(origins, path)}: must be a mapping`);
  }
  const { section, violation } = readSection(cls, value);
  if (violation) {
    const full = path ? `${path}.${violation.path}` : violation.path;
    throw new ConfigError(`${keyLabel(origins, full)}: ${violation.text}`);
  }
  return section;
}

function resolveKey(name: string, value: unknown, origins: Origins): ApiKeyConfig {
  const path = `keys.${name}`;
  if (!HOST_NAME_PATTERN.test(name)) throw new ConfigError(`${path}: key names must be letters, digits, - or _`);
  const k = check(RawKey, value, path, origins);
  if (!k.key === !k.sha256) throw new ConfigError(`${keyLabel(origins, path)}: give exactly one of key or sha256`);
  return { name, sha256: k.sha256 ?? createHash('sha256').update(k.key!).digest('hex'), scopes: k.scopes };
}

function resolveHost(name: string, value: unknown, origins: Origins, home: string, user: string | undefined): HostConfig {
  const path = `hosts.${name}`;
  if (!HOST_NAME_PATTERN.test(name)) {
    throw new ConfigError(`${keyLabel(origins, path)}: host names must be letters, digits, - or _ (at most 63)`);
  }
  const h = check(RawHost, value ?? {}, path, origins);
  const transport = h.transport ?? (h.ssh ? 'ssh' : 'local');
  if (transport === 'ssh' && !h.ssh) throw new ConfigError(`${path}.ssh: transport is ssh but no ssh.host is given`);
  if (h.ollama_url && h.ollama?.url) throw new ConfigError(`${path}: give ollama.url or ollama_url (its older spelling), not both`);
  // For an ssh host Ollama is reached through the SSH connection unless told otherwise, so the URL is
  // the address as the GPU host sees it; without the tunnel the server dials the host directly.
  const tunnel = transport === 'ssh' && h.ollama?.tunnel !== false;
  const ollamaAddress = transport === 'ssh' && !tunnel ? bracketIpv6(h.ssh!.host) : CONFIG_DEFAULTS.ollama.address;
  const ollamaUrl = (h.ollama?.url ?? h.ollama_url ?? `http://${ollamaAddress}:${CONFIG_DEFAULTS.ollama.port}`).replace(/\/+$/, '');
  if (tunnel && ollamaUrl.startsWith('https:')) {
    const key = h.ollama?.url ? `${path}.ollama.url` : `${path}.ollama_url`;
    throw new ConfigError(
      `${keyLabel(origins, key)}: https:// cannot be used through the SSH connection (it already encrypts); use http://, or set OLLAMA_TUNNEL=false (ollama.tunnel: false) to connect directly`,
    );
  }
  const shell = h.shell ?? {};
  const shellDefaults = CONFIG_DEFAULTS.shell;
  const maxTimeout = shell.max_timeout_seconds ?? shellDefaults.max_timeout_seconds;
  const defaultTimeout = shell.default_timeout_seconds ?? Math.min(shellDefaults.default_timeout_seconds, maxTimeout);
  if (defaultTimeout > maxTimeout) {
    throw new ConfigError(`${path}.shell.default_timeout_seconds: must not exceed max_timeout_seconds (${maxTimeout})`);
  }
  for (const [field, list] of [
    ['allow', shell.allow ?? []],
    ['deny', shell.deny ?? []],
  ] as const) {
    list.forEach((pattern, i) => {
      try {
        new RegExp(pattern);
      } catch {
        throw new ConfigError(`${path}.shell.${field}[${i}]: not a valid regular expression`);
      }
    });
  }
  const ssh = h.ssh;
  const sshDefaults = CONFIG_DEFAULTS.ssh;
  return {
    name,
    transport,
    ssh:
      transport === 'ssh' && ssh
        ? {
            host: ssh.host,
            port: ssh.port ?? sshDefaults.port,
            user: ssh.user ?? user ?? 'root',
            private_key_path: expandHome(ssh.private_key_path ?? sshDefaults.private_key_path, home),
            passphrase: ssh.passphrase,
            known_hosts: expandHome(ssh.known_hosts ?? sshDefaults.known_hosts, home),
            host_key_fingerprint: ssh.host_key_fingerprint,
            max_channels: ssh.max_channels ?? sshDefaults.max_channels,
            max_connections: ssh.max_connections ?? sshDefaults.max_connections,
            warm_shells: ssh.warm_shells ?? sshDefaults.warm_shells,
            connect_timeout_seconds: ssh.connect_timeout_seconds ?? sshDefaults.connect_timeout_seconds,
          }
        : undefined,
    ollama_url: ollamaUrl,
    ollama_tunnel: tunnel,
    files_root: h.files_root ?? (transport === 'local' ? home : undefined),
    files_protected_paths: h.files_protected_paths,
    nvidia_smi_path: h.nvidia_smi_path ?? CONFIG_DEFAULTS.nvidia_smi_path,
    ollama_models_dir: h.ollama_models_dir,
    shell: {
      enabled: shell.enabled ?? shellDefaults.enabled,
      default_timeout_seconds: defaultTimeout,
      max_timeout_seconds: maxTimeout,
      max_output_bytes: shell.max_output_bytes ?? shellDefaults.max_output_bytes,
      max_read_bytes: shell.max_read_bytes ?? shellDefaults.max_read_bytes,
      allow: shell.allow ?? [],
      deny: shell.deny ?? [],
    },
    results: { default_max_bytes: h.results?.default_max_bytes ?? CONFIG_DEFAULTS.results.default_max_bytes },
  };
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}
