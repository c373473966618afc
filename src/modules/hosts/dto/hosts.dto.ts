import { HostInput } from '../../../common/host-input.dto.js';

export class ListHostsInput extends HostInput {}

export class HostInfo {
  /** Host name to pass as `host` to other operations. */
  name: string;
  /** How the server reaches the host: ssh, or local (the server runs on the host itself). */
  transport: 'ssh' | 'local';
  /** user@address:port for ssh, "local" for the local host. */
  address: string;
  /** True for the host used when an operation is called without `host`. */
  default: boolean;
  /** Feature areas enabled on this host (hosts, gpu, ollama, shell, files). */
  areas: string[];
  /** Whether the host answered a connection check just now. */
  reachable: boolean;
  /** Why the host is unreachable, when it is. */
  error?: string;
  /** Ollama API base URL used for this host. */
  ollama_url: string;
}

export class ListHostsResult {
  /** The configured hosts. */
  hosts: HostInfo[];
}

export class HostResourcesInput extends HostInput {}

export class MemoryInfo {
  /** Total RAM in MiB. */
  total_mb: number;
  /** RAM in use (total minus available) in MiB. */
  used_mb: number;
  /** RAM available for new work in MiB. */
  available_mb: number;
}

export class DiskInfo {
  /** Mount point, e.g. "/". */
  mount: string;
  /** Device or file system source. */
  filesystem: string;
  /** Size in GiB (2^30 bytes, what `df -h` calls G). */
  size_gb: number;
  /** Used space in GiB. */
  used_gb: number;
  /** Space available to unprivileged users in GiB. */
  available_gb: number;
  /** Used percentage as df reports it. */
  use_percent: number;
}

export class HostResourcesResult {
  /** Configured host name. */
  host: string;
  /** The host's own hostname. */
  hostname: string;
  /** Seconds since boot. */
  uptime_seconds: number;
  /** Load averages over 1, 5 and 15 minutes. */
  load_average: number[];
  /** Number of online CPUs. */
  cpu_count: number;
  /** Memory use. */
  memory: MemoryInfo;
  /** Mounted disks (pseudo file systems left out). */
  disks: DiskInfo[];
}
