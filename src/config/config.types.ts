/**
 * The validated, resolved configuration the rest of the server reads. Built by load-config.ts from
 * environment variables and the optional YAML file; nothing else reads process.env.
 */
export type Scope = 'read' | 'write' | 'shell';
export const ALL_SCOPES: readonly Scope[] = ['read', 'write', 'shell'];

export interface ApiKeyConfig {
  name: string;
  /** sha256 of the key (hex); a key given in clear is hashed at load time and never kept. */
  sha256: string;
  scopes: Scope[];
}

export interface ShellPolicy {
  enabled: boolean;
  default_timeout_seconds: number;
  max_timeout_seconds: number;
  /** Bytes kept per stream (head and tail). */
  max_output_bytes: number;
  /** Bytes read per stream before the command is ended (its output is no longer what gets returned). */
  max_read_bytes: number;
  /** Convenience filters, not a security boundary (see README). */
  allow: string[];
  deny: string[];
}

export interface SshConfig {
  host: string;
  port: number;
  user: string;
  private_key_path: string;
  passphrase?: string;
  known_hosts: string;
  /** Pinned host key fingerprint "SHA256:..."; when set it is used instead of known_hosts. */
  host_key_fingerprint?: string;
  /** Channels at once per connection. */
  max_channels: number;
  /** Connections at most; more than the first only while exec calls fill its channels. */
  max_connections: number;
  /** Commands run in long-lived shells, one at a time each, instead of a new SSH session each. */
  warm_shells: boolean;
  connect_timeout_seconds: number;
}

/** 12 KiB: about 3,000 Llama 3 tokens, what a 4k-context model can take in one tool answer. */
export const DEFAULT_RESULT_MAX_BYTES = 12 * 1024;

/** How much a tool answers when the caller does not ask for a size (a small model's context is 4k tokens). */
export interface ResultLimits {
  /** Target size in bytes of an answer given without max_bytes, max_entries, max_results or paging. */
  default_max_bytes: number;
}

export interface HostConfig {
  name: string;
  transport: 'ssh' | 'local';
  ssh?: SshConfig;
  /** Ollama's API base; when ollama_tunnel is set, the address as the SSH host sees it. */
  ollama_url: string;
  /** Reach Ollama through the host's SSH connection (ssh hosts, unless ollama.tunnel is false). */
  ollama_tunnel: boolean;
  /** Jail for the file tools; undefined = the account's home, resolved on first use. */
  files_root?: string;
  /** Credentials and login files the file tools refuse; undefined = the built-in list ("default" stands for it). */
  files_protected_paths?: string[];
  nvidia_smi_path: string;
  /** Where the host's Ollama stores models (for the disk check of pulls); undefined = found on the host. */
  ollama_models_dir?: string;
  shell: ShellPolicy;
  results: ResultLimits;
}

/** LOG_LEVEL: the least severe messages printed (debug adds Nest's start-up and route lines). */
export type LogLevelSetting = 'error' | 'warn' | 'log' | 'debug';
export const LOG_LEVELS: readonly LogLevelSetting[] = ['error', 'warn', 'log', 'debug'];

export interface AppConfig {
  port: number;
  bind_address: string;
  keys: ApiKeyConfig[];
  hosts: HostConfig[];
  default_host: string;
  cors_origins: string[];
  /** Host header values accepted besides loopback names and the bind address (see common/host-origin.ts). */
  allowed_hosts: string[];
  audit_log?: string;
  log_level: LogLevelSetting;
  gpu: GpuSettings;
  /** `mcp-stdio` only: the configured key whose scopes the stdio session gets (unset: every scope). */
  mcp_stdio_key?: string;
}

export interface GpuSettings {
  /** A long-lived nvidia-smi loop per host answers gpu_status and /metrics (false: every call queries). */
  sampler: boolean;
  sample_interval_ms: number;
  /** The sampler stops after this long without a GPU call. */
  sampler_idle_seconds: number;
  /** 'always': keep sampling (and collecting history) once started, calls or not. */
  history: 'auto' | 'always';
}
