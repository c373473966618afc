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
  connect_timeout_seconds: number;
}

export interface HostConfig {
  name: string;
  transport: 'ssh' | 'local';
  ssh?: SshConfig;
  ollama_url: string;
  /** Jail for the file tools; undefined = the account's home, resolved on first use. */
  files_root?: string;
  nvidia_smi_path: string;
  shell: ShellPolicy;
}

export interface AppConfig {
  port: number;
  bind_address: string;
  keys: ApiKeyConfig[];
  hosts: HostConfig[];
  default_host: string;
  cors_origins: string[];
  /** Extra Host header values accepted on /mcp besides loopback names and the bind address. */
  allowed_hosts: string[];
  audit_log?: string;
}
