import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, HostConfig } from '../config/config.types.js';
import { withTimeout } from '../common/async.js';
import { AppError } from '../common/errors.js';
import type { FileSystem } from './files/file-system.js';
import { LocalFileSystem } from './files/local-file-system.js';
import { SftpFileSystem } from './files/sftp-file-system.js';
import { LocalTransport } from './local/local-transport.js';
import { OllamaClient } from './ollama/ollama-client.js';
import { SshTransport } from './ssh/ssh-transport.js';
import type { HostTransport } from './transport.js';

/** How long list_hosts and /readyz wait for a host's connection check. */
const CHECK_TIMEOUT_MS = 5_000;

/** A configured host and the transport that reaches it. */
export interface Host {
  name: string;
  config: HostConfig;
  transport: HostTransport;
  /** The host's files, over SFTP on the transport's connection (ssh) or node:fs (local). */
  files: FileSystem;
  /** Ollama API client for this host (HTTP keep-alive; no connection until the first call). */
  ollama: OllamaClient;
}

/**
 * Owns one transport per configured host. Transports are created here but connect lazily on first
 * use, so start-up and spec generation never dial a host.
 */
@Injectable()
export class HostRegistry implements OnApplicationShutdown {
  private readonly hosts = new Map<string, Host>();
  readonly defaultName: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.defaultName = config.default_host;
    for (const hc of config.hosts) {
      const transport = createTransport(hc);
      const ollama = new OllamaClient({
        baseUrl: hc.ollama_url,
        hostName: hc.name,
        tunnel:
          hc.ollama_tunnel && transport instanceof SshTransport
            ? { via: transport.address, open: (host, port, options) => transport.forwardOut(host, port, options) }
            : undefined,
      });
      this.hosts.set(hc.name, { name: hc.name, config: hc, transport, files: createFileSystem(transport), ollama });
    }
  }

  /** The named host, or the default one; 404 HOST_NOT_FOUND names the configured hosts. */
  get(name?: string): Host {
    const host = this.hosts.get(name ?? this.defaultName);
    if (!host) {
      throw new AppError(
        404,
        'HOST_NOT_FOUND',
        `No host named "${name}" is configured; use one of: ${[...this.hosts.keys()].join(', ')} (see list_hosts).`,
      );
    }
    return host;
  }

  all(): Host[] {
    return [...this.hosts.values()];
  }

  /** Whether the host answers a connection check within the bound, and why not when it does not. */
  async check(host: Host, timeoutMs = CHECK_TIMEOUT_MS): Promise<{ reachable: boolean; error?: string }> {
    try {
      await withTimeout(host.transport.probe(), timeoutMs);
      return { reachable: true };
    } catch (e) {
      return { reachable: false, error: e instanceof AppError ? e.message : `No answer within ${timeoutMs / 1000} s.` };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.all().flatMap((h) => [h.transport.close(), Promise.resolve(h.ollama.close())]));
  }
}

function createTransport(hc: HostConfig): HostTransport {
  if (hc.transport === 'local') return new LocalTransport();
  const ssh = hc.ssh!;
  return new SshTransport({
    name: hc.name,
    host: ssh.host,
    port: ssh.port,
    username: ssh.user,
    // Read lazily by the transport would hide a missing key until the first call; reading here
    // would make start-up touch files. The transport reads it on connect and reports a clear error.
    privateKeyPath: ssh.private_key_path,
    passphrase: ssh.passphrase,
    knownHostsPath: ssh.host_key_fingerprint ? undefined : ssh.known_hosts,
    hostKeyFingerprint: ssh.host_key_fingerprint,
    connectTimeoutMs: ssh.connect_timeout_seconds * 1000,
    maxChannels: ssh.max_channels,
    maxConnections: ssh.max_connections,
    warmShells: ssh.warm_shells,
  });
}

function createFileSystem(transport: HostTransport): FileSystem {
  if (transport instanceof SshTransport) {
    return new SftpFileSystem({ sftp: () => transport.sftp(), address: transport.address, awaitReply: () => transport.awaitReply() });
  }
  return new LocalFileSystem();
}
