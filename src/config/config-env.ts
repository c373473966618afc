import { ConfigError } from './config-error.js';
import { ALL_SCOPES } from './config.types.js';
import { HOST_NAME_PATTERN } from './host-names.js';

/** Where a value came from (YAML path → the environment variable that set it), so an error can name what the user set. */
export type Origins = Map<string, string>;

const asIs = (value: string) => value;
const lowerCase = (value: string) => value.trim().toLowerCase();
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

interface EnvVariable {
  name: string;
  /**
   * The YAML key it sets, dotted; `hosts.*.` keys belong to the single host the variables define. Without
   * one the loader reads the variable itself.
   */
  key?: string;
  /** The YAML value for the variable's text; the schema then validates it like a value from the file. */
  read?: (value: string) => unknown;
}

/** Every environment variable the configuration reads (the README's configuration table lists the same). */
export const ENV_VARIABLES = [
  { name: 'CONFIG_FILE' },
  { name: 'PORT', key: 'server.port', read: envNumber },
  { name: 'BIND_ADDRESS', key: 'server.bind_address', read: asIs },
  { name: 'CORS_ORIGINS', key: 'server.cors_origins', read: envList },
  // Not envList: an empty entry is a typo to report, not to drop.
  { name: 'ALLOWED_HOSTS', key: 'server.allowed_hosts', read: (v: string) => v.split(',').map((s) => s.trim()) },
  { name: 'AUDIT_LOG', key: 'server.audit_log', read: asIs },
  { name: 'LOG_LEVEL', key: 'server.log_level', read: lowerCase },
  { name: 'GPU_SAMPLER', key: 'gpu.sampler', read: lowerCase },
  { name: 'GPU_SAMPLE_INTERVAL_MS', key: 'gpu.sample_interval_ms', read: envNumber },
  { name: 'GPU_SAMPLER_IDLE_SECONDS', key: 'gpu.sampler_idle_seconds', read: envNumber },
  { name: 'GPU_HISTORY', key: 'gpu.history', read: lowerCase },
  { name: 'API_KEY', key: 'keys.api_key', read: (key: string) => ({ key, scopes: [...ALL_SCOPES] }) },
  { name: 'READONLY_API_KEY', key: 'keys.readonly_api_key', read: (key: string) => ({ key, scopes: ['read'] }) },
  { name: 'DEFAULT_HOST', key: 'default_host', read: asIs },
  { name: 'MCP_STDIO_KEY' },
  // The single host: its name, then its settings (SSH_HOST first: the other SSH_* variables need it).
  { name: 'HOST_NAME' },
  { name: 'SSH_HOST', key: 'hosts.*.ssh.host', read: asIs },
  { name: 'SSH_PORT', key: 'hosts.*.ssh.port', read: envNumber },
  { name: 'SSH_USER', key: 'hosts.*.ssh.user', read: asIs },
  { name: 'SSH_PRIVATE_KEY_PATH', key: 'hosts.*.ssh.private_key_path', read: asIs },
  { name: 'SSH_PASSPHRASE', key: 'hosts.*.ssh.passphrase', read: asIs },
  { name: 'SSH_KNOWN_HOSTS', key: 'hosts.*.ssh.known_hosts', read: asIs },
  { name: 'SSH_HOST_KEY_FINGERPRINT', key: 'hosts.*.ssh.host_key_fingerprint', read: asIs },
  { name: 'OLLAMA_URL', key: 'hosts.*.ollama.url', read: asIs },
  { name: 'OLLAMA_TUNNEL', key: 'hosts.*.ollama.tunnel', read: envBool },
  { name: 'FILES_ROOT', key: 'hosts.*.files_root', read: asIs },
  { name: 'FILES_PROTECTED_PATHS', key: 'hosts.*.files_protected_paths', read: envList },
  { name: 'SHELL_ENABLED', key: 'hosts.*.shell.enabled', read: envBool },
  { name: 'NVIDIA_SMI_PATH', key: 'hosts.*.nvidia_smi_path', read: asIs },
  { name: 'OLLAMA_MODELS_DIR', key: 'hosts.*.ollama_models_dir', read: asIs },
  { name: 'RESULTS_DEFAULT_MAX_BYTES', key: 'hosts.*.results.default_max_bytes', read: envNumber },
] as const satisfies readonly EnvVariable[];

export type EnvName = (typeof ENV_VARIABLES)[number]['name'];

const VARIABLES: readonly EnvVariable[] = ENV_VARIABLES;
const SINGLE_HOST = 'hosts.*.';
const setsKey = (v: EnvVariable): v is Required<EnvVariable> => v.key !== undefined;
const TOP_LEVEL = VARIABLES.filter(setsKey).filter((v) => !v.key.startsWith(SINGLE_HOST));
const HOST_LEVEL = VARIABLES.filter(setsKey).filter((v) => v.key.startsWith(SINGLE_HOST));

/** A variable's value; an empty one counts as unset (`FOO=` in an env file). */
export function envValue(env: NodeJS.ProcessEnv, name: EnvName): string | undefined {
  return nonEmpty(env[name]);
}
const nonEmpty = (value: string | undefined) => (value !== undefined && value !== '' ? value : undefined);

function set(obj: Record<string, any>, path: string[], value: unknown, origins: Origins, envName: string) {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key];
  }
  node[path[path.length - 1]] = value;
  origins.set(path.join('.'), envName);
}

/**
 * Writes the environment's values into the parsed YAML (`raw`, changed in place) and says which
 * variable set which key. The single-host variables define the host named HOST_NAME, or add to the
 * file's default host when the file has hosts.
 */
export function applyEnvironment(raw: Record<string, any>, env: NodeJS.ProcessEnv): Origins {
  const origins: Origins = new Map();
  const e = (name: EnvName) => envValue(env, name);
  // The file's, not DEFAULT_HOST: the variables add to the host the file calls its default.
  const fileDefaultHost: unknown = raw.default_host;
  for (const v of TOP_LEVEL) {
    const value = nonEmpty(env[v.name]);
    if (value !== undefined) set(raw, v.key.split('.'), v.read(value), origins, v.name);
  }

  const hostsInFile = raw.hosts && typeof raw.hosts === 'object' && Object.keys(raw.hosts).length > 0;
  if (hostsInFile && !e('HOST_NAME') && !HOST_LEVEL.some((v) => nonEmpty(env[v.name]))) return origins;
  const name = e('HOST_NAME') ?? (e('SSH_HOST') ? 'default' : hostsInFile ? String(fileDefaultHost ?? Object.keys(raw.hosts)[0]) : 'local');
  const h = ['hosts', name];
  if (!raw.hosts || typeof raw.hosts !== 'object') raw.hosts = {};
  // Own properties only: a name such as "constructor" or "__proto__" must not reach Object.prototype.
  if (!Object.hasOwn(raw.hosts, name) || !raw.hosts[name]) raw.hosts[name] = {};
  if (e('HOST_NAME')) origins.set(`hosts.${name}`, 'HOST_NAME');
  if (e('SSH_HOST')) set(raw, [...h, 'transport'], 'ssh', origins, 'SSH_HOST');
  for (const v of HOST_LEVEL) {
    const value = nonEmpty(env[v.name]);
    if (value === undefined) continue;
    const path = v.key.slice(SINGLE_HOST.length).split('.');
    if (path[0] === 'ssh' && !e('SSH_HOST') && !raw.hosts[name].ssh) {
      throw new ConfigError(`${v.name}: is set but SSH_HOST is not; set SSH_HOST to manage a host over SSH`);
    }
    set(raw, [...h, ...path], v.read(value), origins, v.name);
  }
  // The variable replaces the file's value, whichever spelling the file used.
  if (e('OLLAMA_URL') && raw.hosts[name] && typeof raw.hosts[name] === 'object') delete raw.hosts[name].ollama_url;
  if (e('HOST_NAME') && !HOST_NAME_PATTERN.test(name)) throw new ConfigError(`HOST_NAME: must be letters, digits, - or _ (got "${name}")`);
  return origins;
}

/**
 * The environment variable that can set a YAML path (for the single host: hosts.<name>.<key>), if any.
 * API_KEY and READONLY_API_KEY define whole keys rather than set a value of one, so a key written in
 * the file is not labelled with them.
 */
function envVarFor(path: string): string | undefined {
  const hostKey = /^hosts\.[^.]+\.(.+)$/.exec(path)?.[1];
  return VARIABLES.filter(setsKey).find(
    (v) => !v.key.startsWith('keys.') && (v.key === path || (hostKey !== undefined && v.key === SINGLE_HOST + hostKey)),
  )?.name;
}

/**
 * How an error names a setting: both spellings, the one the user wrote first. "NVIDIA_SMI_PATH /
 * hosts.local.nvidia_smi_path" when the variable set it, "hosts.gpu.ssh.port (env SSH_PORT)" when the
 * YAML did, just "API_KEY" for the keys the environment alone defines (keys.api_key.*).
 */
export function keyLabel(origins: Origins, path: string): string {
  const env = origins.get(path);
  if (env) return path.startsWith('keys.') ? env : `${env} / ${path}`;
  for (const [keyPath, name] of origins) if (path.startsWith(`${keyPath}.`) && keyPath.startsWith('keys.')) return name;
  const equivalent = envVarFor(path);
  return equivalent ? `${path} (env ${equivalent})` : path;
}
