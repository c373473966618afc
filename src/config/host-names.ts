import { BlockList, isIP } from 'node:net';

/**
 * A configured host's name: the YAML's `hosts.<name>`, `HOST_NAME` and the `host` of a request. It ends
 * up in URLs, metric labels and log lines, so it is kept to ASCII letters, digits, `-` and `_`, at most
 * 63 characters, starting with a letter or digit. API key names (`keys.<name>`) follow the same rule.
 */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/**
 * A pinned SSH host key (`host_key_fingerprint`, `SSH_HOST_KEY_FINGERPRINT`) as `ssh-keygen -l` prints
 * it: `SHA256:` and the 43 base64 characters of the digest, the `=` padding optional.
 */
export const HOST_KEY_FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
/** The fingerprint rule in words, for the messages that refuse one. */
export const HOST_KEY_FINGERPRINT_RULE = 'SHA256:<43 base64 characters>';

/** 127.0.0.0/8 and ::1; BlockList also matches their IPv4-mapped IPv6 forms (::ffff:127.0.0.1). */
const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

/**
 * True for "localhost" and loopback IP literals. Names are checked as whole literals: a DNS name
 * such as "127.attacker.example" is anyone's to point at 127.0.0.1, so it is not loopback.
 */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (a === 'localhost') return true;
  const family = isIP(a);
  return family !== 0 && LOOPBACK_ADDRESSES.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** A Host header value split into its name (lower case, no brackets, no trailing dot) and port. */
export interface HostAndPort {
  hostname: string;
  port?: number;
}

const DNS_NAME = /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;
const PORT = /^\d{1,5}$/;

/** An address as it stands before `:port` or in a URL: an IPv6 literal in brackets, anything else as is. */
export function bracketIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Parses `name`, `name:port`, `[v6]` or `[v6]:port` (RFC 9110 Host syntax), any case, with or
 * without one trailing dot on a name. Anything else (a scheme, a path, spaces, a bare IPv6 address,
 * user info, an empty value) is undefined.
 */
export function parseHostAndPort(value: string): HostAndPort | undefined {
  const v = value.toLowerCase();
  let name: string;
  let rest: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    rest = v.slice(end + 1);
    // Zone ids ([fe80::1%eth0]) are not valid in a Host header.
    if (isIP(v.slice(1, end)) !== 6 || v.includes('%')) return undefined;
    // One spelling per address ([0:0::1] is [::1]), as browsers write it in an Origin.
    name = new URL(`http://${v.slice(0, end + 1)}`).hostname.slice(1, -1);
  } else {
    const colon = v.indexOf(':');
    name = colon < 0 ? v : v.slice(0, colon);
    rest = colon < 0 ? '' : v.slice(colon);
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (!DNS_NAME.test(name)) return undefined;
  }
  if (rest === '') return { hostname: name };
  if (!rest.startsWith(':') || !PORT.test(rest.slice(1))) return undefined;
  const port = Number(rest.slice(1));
  return port <= 65535 ? { hostname: name, port } : undefined;
}
