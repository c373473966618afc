/** SshTransports to the test sshd (test/support/sshd.ts), directly or through a proxy in front of it. */
import { Client } from 'ssh2';
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

/**
 * Counts the exec channel opens every ssh2 client in this process sends, and how many sshd refused
 * (observed on the prototype: the transport's clients are private to it).
 */
export function countExecOpens(): { opens: number; refused: number; restore: () => void } {
  const proto = Client.prototype as unknown as { exec: (...args: unknown[]) => unknown };
  const original = proto.exec;
  const counts = {
    opens: 0,
    refused: 0,
    restore: () => {
      proto.exec = original;
    },
  };
  proto.exec = function (this: Client, ...args: unknown[]) {
    counts.opens++;
    const i = args.findIndex((a) => typeof a === 'function');
    const callback = args[i] as (err: Error | undefined, ch: unknown) => void;
    args[i] = (err: Error | undefined, ch: unknown) => {
      if (err) counts.refused++;
      callback(err, ch);
    };
    return original.apply(this, args);
  };
  return counts;
}
