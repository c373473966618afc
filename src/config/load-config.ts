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
  getMetadataStorage,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { parse as parseYaml } from 'yaml';
import {
  ALL_SCOPES,
  DEFAULT_RESULT_MAX_BYTES,
  LOG_LEVELS,
  type AppConfig,
  type HostConfig,
  type LogLevelSetting,
  type Scope,
} from './config.types.js';
import { isLoopback, parseHostAndPort } from './host-names.js';
import { nearestName } from './nearest-name.js';

export { isLoopback };

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

const HTTP_URL = /^https?:\/\/[^\s/]+(\/.*)?$/;

class RawOllama {
  @IsOptional() @Matches(HTTP_URL, { message: 'must be an http:// or https:// URL' }) url?: string;
  @IsOptional() @IsBoolean() tunnel?: boolean;
}

class RawResults {
  @IsOptional() @IsInt() @Min(4096) @Max(4 * 1024 * 1024) default_max_bytes?: number;
}

class RawHost {
  @IsOptional() @IsIn(['ssh', 'local']) transport?: 'ssh' | 'local';
  @IsOptional() @ValidateNested() @Type(() => RawSsh) ssh?: RawSsh;
  @IsOptional() @ValidateNested() @Type(() => RawOllama) ollama?: RawOllama;
  /** The older spelling of ollama.url. */
  @IsOptional() @Matches(HTTP_URL, { message: 'must be an http:// or https:// URL' }) ollama_url?: string;
  @IsOptional() @IsString() @Matches(/^\//, { message: 'must be an absolute path' }) files_root?: string;
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @Matches(/^(default|(~\/)?\/?(?!\.\.?(\/|$))[^/\0]+(\/(?!\.\.?(\/|$))[^/\0]+)*\/?)$/, {
    each: true,
    message: 'each entry must be "default" or a path of names such as ".ssh", ".config/gh" or "/etc/shadow" (no "." or "..")',
  })
  files_protected_paths?: string[];
  @IsOptional() @IsString() @MinLength(1) nvidia_smi_path?: string;
  @IsOptional() @IsString() @Matches(/^\//, { message: 'must be an absolute path' }) ollama_models_dir?: string;
  @IsOptional() @ValidateNested() @Type(() => RawShell) shell?: RawShell;
  @IsOptional() @ValidateNested() @Type(() => RawResults) results?: RawResults;
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
  @IsOptional() @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }) log_level?: LogLevelSetting;
}

class RawGpu {
  // YAML 1.1 readers (and people) write on/off as booleans; both spellings mean the same.
  @IsOptional() @IsIn(['on', 'off', true, false], { message: 'must be on or off' }) sampler?: 'on' | 'off' | boolean;
  @IsOptional() @IsInt() @Min(200) @Max(60_000) sample_interval_ms?: number;
  @IsOptional() @IsInt() @Min(1) @Max(7 * 24 * 3600) sampler_idle_seconds?: number;
  @IsOptional() @IsIn(['auto', 'always']) history?: 'auto' | 'always';
}

class RawConfig {
  @IsOptional() @ValidateNested() @Type(() => RawServer) server?: RawServer;
  @IsOptional() @ValidateNested() @Type(() => RawGpu) gpu?: RawGpu;
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

/** The single-host environment variables and the YAML key (under hosts.<name>) each one sets. */
const HOST_ENV_VARS: Array<[string, string[], (v: string) => unknown]> = [
  ['SSH_PORT', ['ssh', 'port'], envNumber],
  ['SSH_USER', ['ssh', 'user'], String],
  ['SSH_PRIVATE_KEY_PATH', ['ssh', 'private_key_path'], String],
  ['SSH_PASSPHRASE', ['ssh', 'passphrase'], String],
  ['SSH_KNOWN_HOSTS', ['ssh', 'known_hosts'], String],
  ['SSH_HOST_KEY_FINGERPRINT', ['ssh', 'host_key_fingerprint'], String],
  ['OLLAMA_URL', ['ollama', 'url'], String],
  ['OLLAMA_TUNNEL', ['ollama', 'tunnel'], envBool],
  ['FILES_ROOT', ['files_root'], String],
  ['FILES_PROTECTED_PATHS', ['files_protected_paths'], envList],
  ['SHELL_ENABLED', ['shell', 'enabled'], envBool],
  ['NVIDIA_SMI_PATH', ['nvidia_smi_path'], String],
  ['OLLAMA_MODELS_DIR', ['ollama_models_dir'], String],
  ['RESULTS_DEFAULT_MAX_BYTES', ['results', 'default_max_bytes'], envNumber],
];

/** The environment variable that sets a YAML key of the server section. */
const SERVER_ENV_VARS: Record<string, string> = {
  'server.port': 'PORT',
  'server.bind_address': 'BIND_ADDRESS',
  'server.cors_origins': 'CORS_ORIGINS',
  'server.allowed_hosts': 'ALLOWED_HOSTS',
  'server.audit_log': 'AUDIT_LOG',
  'server.log_level': 'LOG_LEVEL',
  'gpu.sampler': 'GPU_SAMPLER',
  'gpu.sample_interval_ms': 'GPU_SAMPLE_INTERVAL_MS',
  'gpu.sampler_idle_seconds': 'GPU_SAMPLER_IDLE_SECONDS',
  'gpu.history': 'GPU_HISTORY',
  default_host: 'DEFAULT_HOST',
};

/** The environment variable that can set a YAML path (for the single host: hosts.<name>.<key>), if any. */
function envVarFor(path: string): string | undefined {
  if (SERVER_ENV_VARS[path]) return SERVER_ENV_VARS[path];
  const m = /^hosts\.[^.]+\.(.+)$/.exec(path);
  if (!m) return undefined;
  if (m[1] === 'ssh.host') return 'SSH_HOST';
  return HOST_ENV_VARS.find(([, keyPath]) => keyPath.join('.') === m[1])?.[0];
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

/** The YAML keys a Raw* class declares, for "did you mean" on an unknown key. */
function yamlKeys(target: object | undefined): string[] {
  const cls = target?.constructor;
  if (!cls || cls === Object) return [];
  return getMetadataStorage()
    .getTargetValidationMetadatas(cls, '', true, false)
    .map((m) => m.propertyName);
}

const STRING_RULES = new Set(['isString', 'matches', 'minLength', 'maxLength']);

function firstError(errors: ValidationError[], prefix: string[] = []): { path: string; text: string } | undefined {
  for (const e of errors) {
    const path = [...prefix, e.property];
    if (e.constraints) {
      const texts = Object.values(e.constraints);
      let text: string;
      if (texts.some((t) => t.startsWith('property '))) {
        const near = nearestName(e.property, yamlKeys(e.target));
        text = `unknown key${near ? ` (did you mean ${near}?)` : ''}`;
      } else if (e.value === undefined) {
        text = 'required';
      } else if (
        (typeof e.value === 'number' || typeof e.value === 'boolean') &&
        Object.keys(e.constraints).some((k) => STRING_RULES.has(k))
      ) {
        // YAML turns unquoted digits (a digest of zeros, a numeric key) into a number, and true/false into booleans.
        const read = typeof e.value === 'number' ? `the number ${e.value}` : e.value;
        text = `${texts[0].replace(new RegExp(`^${e.property} `), '')}; YAML read this as ${read}: quote the value`;
      } else if (typeof e.value === 'string' && ('isInt' in e.constraints || 'isBoolean' in e.constraints)) {
        const shown = JSON.stringify(e.value.length > 40 ? `${e.value.slice(0, 40)}…` : e.value);
        text = 'isInt' in e.constraints ? `${shown} is not a number` : `${shown} is not true or false`;
      } else {
        text = texts[0].replace(new RegExp(`^${e.property} `), '');
      }
      return { path: path.join('.'), text };
    }
    const nested = firstError(e.children ?? [], path);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * How an error names a setting: both spellings, the one the user wrote first. "NVIDIA_SMI_PATH /
 * hosts.local.nvidia_smi_path" when the variable set it, "hosts.gpu.ssh.port (env SSH_PORT)" when the
 * YAML did, just "API_KEY" for the keys the environment alone defines (keys.api_key.*).
 */
function keyLabel(origins: Origins, path: string): string {
  const env = origins.get(path);
  if (env) return path.startsWith('keys.') ? env : `${env} / ${path}`;
  for (const [keyPath, name] of origins) if (path.startsWith(`${keyPath}.`) && keyPath.startsWith('keys.')) return name;
  const equivalent = envVarFor(path);
  return equivalent ? `${path} (env ${equivalent})` : path;
}

function check<T extends object>(cls: new () => T, value: unknown, path: string, origins: Origins): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${keyLabel(origins, path)}: must be a mapping`);
  }
  const instance = plainToInstance(cls, value);
  const found = firstError(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true }));
  if (found) {
    const full = path ? `${path}.${found.path}` : found.path;
    throw new ConfigError(`${keyLabel(origins, full)}: ${found.text}`);
  }
  return instance;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

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
  // Not envList: an empty entry is a typo to report, not to drop.
  const allowedHosts = e('ALLOWED_HOSTS')
    ?.split(',')
    .map((s) => s.trim());
  if (allowedHosts) set(raw, ['server', 'allowed_hosts'], allowedHosts, origins, 'ALLOWED_HOSTS');
  if (e('AUDIT_LOG')) set(raw, ['server', 'audit_log'], e('AUDIT_LOG'), origins, 'AUDIT_LOG');
  if (e('LOG_LEVEL')) set(raw, ['server', 'log_level'], e('LOG_LEVEL')!.trim().toLowerCase(), origins, 'LOG_LEVEL');
  if (e('GPU_SAMPLER')) set(raw, ['gpu', 'sampler'], e('GPU_SAMPLER')!.trim().toLowerCase(), origins, 'GPU_SAMPLER');
  if (e('GPU_SAMPLE_INTERVAL_MS'))
    set(raw, ['gpu', 'sample_interval_ms'], envNumber(e('GPU_SAMPLE_INTERVAL_MS')!), origins, 'GPU_SAMPLE_INTERVAL_MS');
  if (e('GPU_SAMPLER_IDLE_SECONDS'))
    set(raw, ['gpu', 'sampler_idle_seconds'], envNumber(e('GPU_SAMPLER_IDLE_SECONDS')!), origins, 'GPU_SAMPLER_IDLE_SECONDS');
  if (e('GPU_HISTORY')) set(raw, ['gpu', 'history'], e('GPU_HISTORY')!.trim().toLowerCase(), origins, 'GPU_HISTORY');
  if (e('API_KEY')) set(raw, ['keys', 'api_key'], { key: e('API_KEY'), scopes: [...ALL_SCOPES] }, origins, 'API_KEY');
  if (e('READONLY_API_KEY'))
    set(raw, ['keys', 'readonly_api_key'], { key: e('READONLY_API_KEY'), scopes: ['read'] }, origins, 'READONLY_API_KEY');

  const singleHostVars = ['SSH_HOST', ...HOST_ENV_VARS.map(([name]) => name)];
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
    for (const [name2, path, conv] of HOST_ENV_VARS) {
      if (e(name2) === undefined) continue;
      if (path[0] === 'ssh' && !e('SSH_HOST') && !raw.hosts[name].ssh) {
        throw new ConfigError(`${name2}: is set but SSH_HOST is not; set SSH_HOST to manage a host over SSH`);
      }
      set(raw, [...h, ...path], conv(e(name2)!), origins, name2);
    }
    // The variable replaces the file's value, whichever spelling the file used.
    if (e('OLLAMA_URL') && raw.hosts[name] && typeof raw.hosts[name] === 'object') delete raw.hosts[name].ollama_url;
    if (e('HOST_NAME') && !HOST_NAME.test(name)) throw new ConfigError(`HOST_NAME: must be letters, digits, - or _ (got "${name}")`);
  }
  if (e('DEFAULT_HOST')) set(raw, ['default_host'], e('DEFAULT_HOST'), origins, 'DEFAULT_HOST');

  // ---- validate ----
  const top = check(RawConfig, raw, '', origins);
  const server = top.server ?? new RawServer();
  const gpu = top.gpu ?? new RawGpu();
  const home = env.HOME || homedir();

  const keys = Object.entries((raw.keys ?? {}) as Record<string, unknown>).map(([name, value]) => {
    const path = `keys.${name}`;
    if (!HOST_NAME.test(name)) throw new ConfigError(`${path}: key names must be letters, digits, - or _`);
    const k = check(RawKey, value, path, origins);
    if (!k.key === !k.sha256) throw new ConfigError(`${keyLabel(origins, path)}: give exactly one of key or sha256`);
    return { name, sha256: k.sha256 ?? sha256(k.key!), scopes: k.scopes };
  });

  const hosts: HostConfig[] = Object.entries((raw.hosts ?? {}) as Record<string, unknown>).map(([name, value]) => {
    const path = `hosts.${name}`;
    if (!HOST_NAME.test(name)) throw new ConfigError(`${keyLabel(origins, path)}: host names must be letters, digits, - or _ (at most 63)`);
    const h = check(RawHost, value ?? {}, path, origins);
    const transport = h.transport ?? (h.ssh ? 'ssh' : 'local');
    if (transport === 'ssh' && !h.ssh) throw new ConfigError(`${path}.ssh: transport is ssh but no ssh.host is given`);
    if (h.ollama_url && h.ollama?.url) throw new ConfigError(`${path}: give ollama.url or ollama_url (its older spelling), not both`);
    // For an ssh host Ollama is reached through the SSH connection unless told otherwise, so the URL is
    // the address as the GPU host sees it; without the tunnel the server dials the host directly.
    const tunnel = transport === 'ssh' && h.ollama?.tunnel !== false;
    const ollamaUrl = (
      h.ollama?.url ??
      h.ollama_url ??
      `http://${transport === 'ssh' && !tunnel ? bracketIpv6(h.ssh!.host) : '127.0.0.1'}:11434`
    ).replace(/\/+$/, '');
    if (tunnel && ollamaUrl.startsWith('https:')) {
      const key = h.ollama?.url ? `${path}.ollama.url` : `${path}.ollama_url`;
      throw new ConfigError(
        `${keyLabel(origins, key)}: https:// cannot be used through the SSH connection (it already encrypts); use http://, or set OLLAMA_TUNNEL=false (ollama.tunnel: false) to connect directly`,
      );
    }
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
      ollama_url: ollamaUrl,
      ollama_tunnel: tunnel,
      files_root: h.files_root ?? (transport === 'local' ? home : undefined),
      files_protected_paths: h.files_protected_paths,
      nvidia_smi_path: h.nvidia_smi_path ?? 'nvidia-smi',
      ollama_models_dir: h.ollama_models_dir,
      shell: {
        enabled: shell.enabled ?? true,
        default_timeout_seconds: defaultTimeout,
        max_timeout_seconds: maxTimeout,
        max_output_bytes: shell.max_output_bytes ?? 64 * 1024,
        max_read_bytes: shell.max_read_bytes ?? 16 * 1024 * 1024,
        allow: shell.allow ?? [],
        deny: shell.deny ?? [],
      },
      results: { default_max_bytes: h.results?.default_max_bytes ?? DEFAULT_RESULT_MAX_BYTES },
    };
  });
  if (hosts.length === 0) throw new ConfigError('hosts: at least one host is needed');

  const defaultHost = top.default_host ?? hosts[0].name;
  if (!hosts.some((h) => h.name === defaultHost)) {
    throw new ConfigError(
      `${keyLabel(origins, 'default_host')}: no host named "${defaultHost}" (hosts: ${hosts.map((h) => h.name).join(', ')})`,
    );
  }

  const bind = server.bind_address ?? '127.0.0.1';
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

  return {
    port: server.port ?? 8000,
    bind_address: bind,
    keys,
    hosts,
    default_host: defaultHost,
    cors_origins: server.cors_origins ?? [],
    allowed_hosts: server.allowed_hosts ?? [],
    audit_log: server.audit_log,
    log_level: server.log_level ?? 'log',
    gpu: {
      sampler: gpu.sampler === undefined || gpu.sampler === 'on' || gpu.sampler === true,
      sample_interval_ms: gpu.sample_interval_ms ?? 1000,
      sampler_idle_seconds: gpu.sampler_idle_seconds ?? 600,
      history: gpu.history ?? 'auto',
    },
    mcp_stdio_key: e('MCP_STDIO_KEY'),
  };
}

function bracketIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
