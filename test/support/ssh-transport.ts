/** SshTransports to the test sshd (test/support/sshd.ts), directly or through a proxy in front of it. */
import { SshTransport, type SshTransportOptions } from '../../src/infra/ssh/ssh-transport.js';
import type { SshdInfo } from './sshd.js';

/** A transport to `sshd`, trusting it through its known_hosts file. */
export function sshTransportTo(sshd: SshdInfo, extra: Partial<SshTransportOptions> = {}): SshTransport {
  return new SshTransport({
    name: 'test',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.privateKeyPath,
    knownHostsPath: sshd.knownHostsPath,
    connectTimeoutMs: 5_000,
    ...extra,
  });
}

/** A transport to `sshd` through `proxy`: the proxy's port is not in known_hosts, so the host key is pinned instead. */
export function sshTransportVia(
  proxy: { host: string; port: number },
  sshd: SshdInfo,
  extra: Partial<SshTransportOptions> = {},
): SshTransport {
  return sshTransportTo(sshd, {
    host: proxy.host,
    port: proxy.port,
    knownHostsPath: undefined,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    ...extra,
  });
}
