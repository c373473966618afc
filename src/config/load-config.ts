import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { parse as parseYaml } from 'yaml';
import { ALL_SCOPES, type AppConfig, type HostConfig, type Scope } from './config.types.js';

/** A configuration problem: the server prints the message (one line naming the key) and exits. */
export class ConfigError extends Error {}

// ---- the YAML file's shape (snake_case, as documented in config.example.yaml) ----

class RawSsh {
  @IsString() @MinLength(1) host: string;
  @IsOptional() @IsInt() @Min(1) @Max(65535) port?: number;
  @IsOptional() @IsString() @MinLength(1) user?: string;
  @IsOptional() @IsString() private_key_path?: string;
  @IsOptional() @IsString() passphrase?: string;
  @IsOptional() @IsString() known_hosts?: string;
  @IsOptional()
  @Matches(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { message: 'must look like SHA256:<43 base64 characters>' })
  host_key_fingerprint?: string;
  @IsOptional() @IsInt() @Min(1) @Max(64) max_channels?: number;
  @IsOptional() @IsInt() @Min(1) @Max(8) max_connections?: number;
  @IsOptional() @IsInt() @Min(1) @Max(120) connect_timeout_seconds?: number;
}

class RawShell {
  @IsOptional() @IsBoolean() enabled?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(86_400) default_timeout_seconds?: number;
  @IsOptional() @IsInt() @Min(1) @Max(86_400) max_timeout_seconds?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(16 * 1024 * 1024) max_output_bytes?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(1024 * 1024 * 1024 * 1024) max_read_bytes?: number;
  @IsOptional() @IsArray() @IsString({ each: true }) allow?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) deny?: string[];
}

class RawHost {
  @IsOptional() @IsIn(['ssh', 'local']) transport?: 'ssh' | 'local';
  @IsOptional() @ValidateNested() @Type(() => RawSsh) ssh?: RawSsh;
  @IsOptional() @Matches(/^https?:\/\/[^\s/]+(\/.*)?$/, { message: 'must be an http:// or https:// URL' }) ollama_url?: string;
  @IsOptional() @IsString() @Matches(/^\//, { message: 'must be an absolute path' }) files_root?: string;
  @IsOptional() @IsString() @MinLength(1) nvidia_smi_path?: string;
  @IsOptional() @ValidateNested() @Type(() => RawShell) shell?: RawShell;
}

class RawKey {
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) key?: string;
  @IsOptional() @Matches(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters' }) sha256?: string;
  @IsArray() @ArrayUnique() @IsIn(ALL_SCOPES, { each: true }) scopes: Scope[];
}

class RawServer {
  @IsOptional() @IsInt() @Min(0) @Max(65535) port?: number;
  @IsOptional() @IsString() @MinLength(1) bind_address?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) cors_origins?: string[];
  @IsOptional() @IsArray() @IsString({ each: true }) allowed_hosts?: string[];
  @IsOptional() @IsString() audit_log?: string;
}

class RawConfig {
  @IsOptional() @ValidateNested() @Type(() => RawServer) server?: RawServer;
  @IsOptional() @IsString() @MaxLength(64) default_host?: string;
  // Maps are validated entry by entry below (class-validator has no typed record support).
  @IsOptional() @IsObject() keys?: Record<string, unknown>;
  @IsOptional() @IsObject() hosts?: Record<string, unknown>;
}

const HOST_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** Where a value came from, so an error can name the environment variable the user actually set. */
type Origins = Map<string, string>;

function envNumber(value: string): number | string {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}
function envBool(value: string): boolean | string {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
}
function envList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function set(obj: Record<string, any>, path: string[], value: unknown, origins: Origins, envName: string) {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key];
  }
  node[path[path.length - 1]] = value;
  origins.set(path.join('.'), envName);
}

function firstError(errors: ValidationError[], prefix: string[] = []): { path: string; text: string } | undefined {
  for (const e of errors) {
    const path = [...prefix, e.property];
    if (e.constraints) {
      const text = Object.values(e.constraints)[0].replace(new RegExp(`^${e.property} `), '');
      return { path: path.join('.'), text };
    }
    const nested = firstError(e.children ?? [], path);
    if (nested) return nested;
  }
  return undefined;
}

/** The env variable behind a path (or one of its parents, e.g. API_KEY for keys.api_key.key), else the path. */
function originOf(origins: Origins, path: string): string {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    if (origins.has(p)) return origins.get(p)!;
  }
  return path;
}

function check<T extends object>(cls: new () => T, value: unknown, path: string, origins: Origins): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${origins.get(path) ?? path}: must be a mapping`);
  }
  const instance = plainToInstance(cls, value);
  const found = firstError(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true }));
  if (found) {
    const full = path ? `${path}.${found.path}` : found.path;
    throw new ConfigError(`${originOf(origins, full)}: ${found.text}`);
  }
  return instance;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
export const isLoopback = (address: string) => LOOPBACK.has(address) || address.startsWith('127.');

/**
 * Reads configuration: YAML from CONFIG_FILE (if set) first, environment variables over it. Throws
 * ConfigError with one line naming the key (the env variable, or the YAML path) and what is wrong.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const origins: Origins = new Map();
  let raw: Record<string, any> = {};
  if (env.CONFIG_FILE) {
    let text: string;
    try {
      text = readFileSync(env.CONFIG_FILE, 'utf8');
    } catch (e) {
      throw new ConfigError(`CONFIG_FILE: cannot read ${env.CONFIG_FILE} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      throw new ConfigError(`CONFIG_FILE: ${env.CONFIG_FILE} is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`CONFIG_FILE: ${env.CONFIG_FILE} must hold a mapping`);
  }

  // ---- environment over the file ----
  const e = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  if (e('PORT')) set(raw, ['server', 'port'], envNumber(e('PORT')!), origins, 'PORT');
  if (e('BIND_ADDRESS')) set(raw, ['server', 'bind_address'], e('BIND_ADDRESS'), origins, 'BIND_ADDRESS');
  if (e('CORS_ORIGINS')) set(raw, ['server', 'cors_origins'], envList(e('CORS_ORIGINS')!), origins, 'CORS_ORIGINS');
  if (e('ALLOWED_HOSTS')) set(raw, ['server', 'allowed_hosts'], envList(e('ALLOWED_HOSTS')!), origins, 'ALLOWED_HOSTS');
  if (e('AUDIT_LOG')) set(raw, ['server', 'audit_log'], e('AUDIT_LOG'), origins, 'AUDIT_LOG');
  if (e('API_KEY')) set(raw, ['keys', 'api_key'], { key: e('API_KEY'), scopes: [...ALL_SCOPES] }, origins, 'API_KEY');
  if (e('READONLY_API_KEY'))
    set(raw, ['keys', 'readonly_api_key'], { key: e('READONLY_API_KEY'), scopes: ['read'] }, origins, 'READONLY_API_KEY');

  const singleHostVars = [
    'SSH_HOST',
    'SSH_PORT',
    'SSH_USER',
    'SSH_PRIVATE_KEY_PATH',
    'SSH_PASSPHRASE',
    'SSH_KNOWN_HOSTS',
    'SSH_HOST_KEY_FINGERPRINT',
    'OLLAMA_URL',
    'FILES_ROOT',
    'SHELL_ENABLED',
    'NVIDIA_SMI_PATH',
  ];
  const hostsInFile = raw.hosts && typeof raw.hosts === 'object' && Object.keys(raw.hosts).length > 0;
  if (!hostsInFile || e('HOST_NAME') || singleHostVars.some((v) => e(v))) {
    const name =
      e('HOST_NAME') ?? (e('SSH_HOST') ? 'default' : hostsInFile ? String(raw.default_host ?? Object.keys(raw.hosts)[0]) : 'local');
    const h = ['hosts', name];
    if (!raw.hosts || typeof raw.hosts !== 'object') raw.hosts = {};
    if (!raw.hosts[name]) raw.hosts[name] = {};
    if (e('HOST_NAME')) origins.set(`hosts.${name}`, 'HOST_NAME');
    if (e('SSH_HOST')) {
      set(raw, [...h, 'transport'], 'ssh', origins, 'SSH_HOST');
      set(raw, [...h, 'ssh', 'host'], e('SSH_HOST'), origins, 'SSH_HOST');
    }
    const map: Array<[string, string[], (v: string) => unknown]> = [
      ['SSH_PORT', ['ssh', 'port'], envNumber],
      ['SSH_USER', ['ssh', 'user'], String],
      ['SSH_PRIVATE_KEY_PATH', ['ssh', 'private_key_path'], String],
      ['SSH_PASSPHRASE', ['ssh', 'passphrase'], String],
      ['SSH_KNOWN_HOSTS', ['ssh', 'known_hosts'], String],
      ['SSH_HOST_KEY_FINGERPRINT', ['ssh', 'host_key_fingerprint'], String],
      ['OLLAMA_URL', ['ollama_url'], String],
      ['FILES_ROOT', ['files_root'], String],
      ['SHELL_ENABLED', ['shell', 'enabled'], envBool],
      ['NVIDIA_SMI_PATH', ['nvidia_smi_path'], String],
    ];
    for (const [name2, path, conv] of map) {
      if (e(name2) === undefined) continue;
      if (path[0] === 'ssh' && !e('SSH_HOST') && !raw.hosts[name].ssh) {
        throw new ConfigError(`${name2}: is set but SSH_HOST is not; set SSH_HOST to manage a host over SSH`);
      }
      set(raw, [...h, ...path], conv(e(name2)!), origins, name2);
    }
    if (e('HOST_NAME') && !HOST_NAME.test(name)) throw new ConfigError(`HOST_NAME: must be letters, digits, - or _ (got "${name}")`);
  }
  if (e('DEFAULT_HOST')) set(raw, ['default_host'], e('DEFAULT_HOST'), origins, 'DEFAULT_HOST');

  // ---- validate ----
  const top = check(RawConfig, raw, '', origins);
  const server = top.server ?? new RawServer();
  const home = env.HOME || homedir();

  const keys = Object.entries((raw.keys ?? {}) as Record<string, unknown>).map(([name, value]) => {
    const path = `keys.${name}`;
    if (!HOST_NAME.test(name)) throw new ConfigError(`${path}: key names must be letters, digits, - or _`);
    const k = check(RawKey, value, path, origins);
    if (!k.key === !k.sha256) throw new ConfigError(`${origins.get(path) ?? path}: give exactly one of key or sha256`);
    return { name, sha256: k.sha256 ?? sha256(k.key!), scopes: k.scopes };
  });

  const hosts: HostConfig[] = Object.entries((raw.hosts ?? {}) as Record<string, unknown>).map(([name, value]) => {
    const path = `hosts.${name}`;
    if (!HOST_NAME.test(name))
      throw new ConfigError(`${origins.get(path) ?? path}: host names must be letters, digits, - or _ (at most 63)`);
    const h = check(RawHost, value ?? {}, path, origins);
    const transport = h.transport ?? (h.ssh ? 'ssh' : 'local');
    if (transport === 'ssh' && !h.ssh) throw new ConfigError(`${path}.ssh: transport is ssh but no ssh.host is given`);
    const shell = h.shell ?? {};
    const maxTimeout = shell.max_timeout_seconds ?? 400;
    const defaultTimeout = shell.default_timeout_seconds ?? Math.min(60, maxTimeout);
    if (defaultTimeout > maxTimeout)
      throw new ConfigError(`${path}.shell.default_timeout_seconds: must not exceed max_timeout_seconds (${maxTimeout})`);
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
    return {
      name,
      transport,
      ssh:
        transport === 'ssh'
          ? {
              host: h.ssh!.host,
              port: h.ssh!.port ?? 22,
              user: h.ssh!.user ?? env.USER ?? 'root',
              private_key_path: expandHome(h.ssh!.private_key_path ?? '~/.ssh/id_ed25519', home),
              passphrase: h.ssh!.passphrase,
              known_hosts: expandHome(h.ssh!.known_hosts ?? '~/.ssh/known_hosts', home),
              host_key_fingerprint: h.ssh!.host_key_fingerprint,
              max_channels: h.ssh!.max_channels ?? 8,
              max_connections: h.ssh!.max_connections ?? 2,
              connect_timeout_seconds: h.ssh!.connect_timeout_seconds ?? 10,
            }
          : undefined,
      ollama_url: (h.ollama_url ?? `http://${transport === 'ssh' ? bracketIpv6(h.ssh!.host) : '127.0.0.1'}:11434`).replace(/\/+$/, ''),
      files_root: h.files_root ?? (transport === 'local' ? home : undefined),
      nvidia_smi_path: h.nvidia_smi_path ?? 'nvidia-smi',
      shell: {
        enabled: shell.enabled ?? true,
        default_timeout_seconds: defaultTimeout,
        max_timeout_seconds: maxTimeout,
        max_output_bytes: shell.max_output_bytes ?? 64 * 1024,
        max_read_bytes: shell.max_read_bytes ?? 16 * 1024 * 1024,
        allow: shell.allow ?? [],
        deny: shell.deny ?? [],
      },
    };
  });
  if (hosts.length === 0) throw new ConfigError('hosts: at least one host is needed');

  const defaultHost = top.default_host ?? hosts[0].name;
  if (!hosts.some((h) => h.name === defaultHost)) {
    throw new ConfigError(
      `${origins.get('default_host') ?? 'default_host'}: no host named "${defaultHost}" (hosts: ${hosts.map((h) => h.name).join(', ')})`,
    );
  }

  const bind = server.bind_address ?? '127.0.0.1';
  if (!isLoopback(bind) && keys.length === 0) {
    throw new ConfigError(
      `${origins.get('server.bind_address') ?? 'server.bind_address'}: ${bind} is not a loopback address, so an API key is required; set API_KEY (and READONLY_API_KEY for read-only users)`,
    );
  }

  return {
    port: server.port ?? 8000,
    bind_address: bind,
    keys,
    hosts,
    default_host: defaultHost,
    cors_origins: server.cors_origins ?? [],
    allowed_hosts: server.allowed_hosts ?? [],
    audit_log: server.audit_log,
  };
}

function bracketIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
