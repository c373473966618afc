/**
 * Host key trust, OpenSSH style: a known_hosts file (plain, `[host]:port`, wildcard and hashed `|1|`
 * entries, `@revoked` markers) or a pinned SHA256 fingerprint. Pure functions, so the rules are unit
 * tested without a server. `@cert-authority` lines are skipped: host certificates are not supported.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { escapeRegExp } from '../../common/text.js';

export interface KnownHostEntry {
  marker: 'revoked' | null;
  /** The host field as written: comma-separated patterns, or one hashed `|1|salt|hash` name. */
  hosts: string;
  keyType: string;
  key: Buffer;
  line: number;
}

export type HostKeyVerdict =
  | { result: 'trusted' }
  | { result: 'revoked' }
  /** Entries exist for this host, none with the presented key. */
  | { result: 'changed'; knownTypes: string[]; lines: number[] }
  | { result: 'unknown' };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else continue; // @cert-authority (or unknown markers): not a plain key for a host
    }
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) continue;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) continue;
    entries.push({ marker, hosts, keyType, key, line: i + 1 });
  }
  return entries;
}

/** The name OpenSSH stores for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64, no padding>` of a public key blob, as `ssh-keygen -l` prints it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (its first string field). */
export function keyTypeOfBlob(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len > 64 || 4 + len > keyBlob.length) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** Normalise a configured pin: accept "SHA256:abc=" or "abc" and compare without padding. */
export function normaliseFingerprint(fp: string): string {
  const body = fp
    .trim()
    .replace(/^SHA256:/i, '')
    .replace(/=+$/, '');
  return 'SHA256:' + body;
}

export function fingerprintMatches(keyBlob: Buffer, pinned: string): boolean {
  const a = Buffer.from(fingerprintSha256(keyBlob));
  const b = Buffer.from(normaliseFingerprint(pinned));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Does the host field of an entry name one of `names` (e.g. "[10.0.1.201]:2222")? */
export function hostFieldMatches(hostsField: string, names: string[]): boolean {
  if (hostsField.startsWith('|1|')) {
    const [, , saltB64, hashB64] = hostsField.split('|');
    if (!saltB64 || !hashB64) return false;
    const salt = Buffer.from(saltB64, 'base64');
    const expected = Buffer.from(hashB64, 'base64');
    return names.some((name) => {
      const got = createHmac('sha1', salt).update(name).digest();
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
  }
  const patterns = hostsField.split(',');
  return names.some((name) => {
    let matched = false;
    for (const p of patterns) {
      if (p.startsWith('!')) {
        // A negated pattern that matches vetoes the whole line, whatever else matched.
        if (globMatch(p.slice(1), name)) return false;
      } else if (globMatch(p, name)) {
        matched = true;
      }
    }
    return matched;
  });
}

/**
 * Decide whether `keyBlob` is trusted for a host known under any of `names`. A revoked key is refused
 * even if another line trusts it, as OpenSSH does.
 */
export function checkHostKey(entries: KnownHostEntry[], names: string[], keyBlob: Buffer): HostKeyVerdict {
  let trusted = false;
  const otherTypes = new Set<string>();
  const lines: number[] = [];
  for (const e of entries) {
    if (e.marker === 'revoked') {
      if (e.key.equals(keyBlob)) return { result: 'revoked' };
      continue;
    }
    if (!hostFieldMatches(e.hosts, names)) continue;
    if (e.key.equals(keyBlob)) trusted = true;
    else {
      otherTypes.add(e.keyType);
      lines.push(e.line);
    }
  }
  if (trusted) return { result: 'trusted' };
  if (lines.length > 0) return { result: 'changed', knownTypes: [...otherTypes], lines };
  return { result: 'unknown' };
}

/**
 * The host key algorithms to offer, so the server presents a key we have on file (OpenSSH orders its
 * offer the same way). known_hosts key types map to signature algorithms: an "ssh-rsa" key can be used
 * with rsa-sha2-512/256. Returns undefined (ssh2's default order) when nothing is on file.
 */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], names: string[]): string[] | undefined {
  const algos: string[] = [];
  for (const e of entries) {
    if (e.marker !== null || !hostFieldMatches(e.hosts, names)) continue;
    const forType = e.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.keyType];
    for (const a of forType) if (!algos.includes(a)) algos.push(a);
  }
  return algos.length > 0 ? algos : undefined;
}

function globMatch(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escapeRegExp(c)))
        .join('') +
      '$',
    'i',
  );
  return re.test(name);
}
