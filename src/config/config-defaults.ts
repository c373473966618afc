import { DEFAULT_RESULT_MAX_BYTES, type AppConfig, type GpuSettings, type ShellPolicy, type SshConfig } from './config.types.js';

/**
 * Every value a setting takes when neither the YAML file nor the environment gives one (the README's
 * configuration table lists them). Settings whose default depends on others are resolved by the loader:
 * `ssh.user` ($USER, else root), `files_root` (the home of a local host) and the Ollama URL.
 */
export const CONFIG_DEFAULTS = {
  server: { port: 8000, bind_address: '127.0.0.1', log_level: 'log' } satisfies Pick<AppConfig, 'port' | 'bind_address' | 'log_level'>,
  gpu: { sampler: true, sample_interval_ms: 1000, sampler_idle_seconds: 600, history: 'auto' } satisfies GpuSettings,
  ssh: {
    port: 22,
    private_key_path: '~/.ssh/id_ed25519',
    known_hosts: '~/.ssh/known_hosts',
    max_channels: 8,
    max_connections: 2,
    warm_shells: true,
    connect_timeout_seconds: 10,
  } satisfies Partial<SshConfig>,
  /** Ollama's own port, on 127.0.0.1 as the host sees it (on the SSH host's address when not tunnelled). */
  ollama: { address: '127.0.0.1', port: 11434 },
  nvidia_smi_path: 'nvidia-smi',
  shell: {
    enabled: true,
    /** Lowered to max_timeout_seconds when that is set below it. */
    default_timeout_seconds: 60,
    max_timeout_seconds: 400,
    max_output_bytes: 64 * 1024,
    max_read_bytes: 16 * 1024 * 1024,
  } satisfies Partial<ShellPolicy>,
  results: { default_max_bytes: DEFAULT_RESULT_MAX_BYTES },
};
