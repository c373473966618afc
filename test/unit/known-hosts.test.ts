import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprintMatches,
  fingerprintSha256,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
} from '../../src/infra/ssh/known-hosts.js';

/** A syntactically real ssh-ed25519 public key blob (string type, string 32-byte key). */
function blob(seed: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = createHash('sha256').update(String(seed)).digest();
  const out = Buffer.alloc(4 + type.length + 4 + key.length);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(key.length, 4 + type.length);
  key.copy(out, 8 + type.length);
  return out;
}
const A = blob(1);
const B = blob(2);
const b64 = (b: Buffer) => b.toString('base64');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names non-22 ports in brackets, like OpenSSH', () => {
    expect(knownHostsName('10.0.1.201', 22)).toBe('10.0.1.201');
    expect(knownHostsName('10.0.1.201', 2222)).toBe('[10.0.1.201]:2222');
  });

  it('parses plain, bracketed, hashed, commented and marked lines', () => {
    const text = [
      '# comment',
      '',
      `whisper,10.0.1.201 ssh-ed25519 ${b64(A)} comment here`,
      `[10.0.1.201]:2222 ssh-ed25519 ${b64(B)}`,
      `@revoked * ssh-ed25519 ${b64(B)}`,
      `@cert-authority *.lan ssh-ed25519 ${b64(A)}`,
      'garbage',
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.hosts, e.marker, e.line])).toEqual([
      ['whisper,10.0.1.201', null, 3],
      ['[10.0.1.201]:2222', null, 4],
      ['*', 'revoked', 5],
    ]);
  });

  it('matches comma lists, wildcards and negations', () => {
    expect(hostFieldMatches('whisper,10.0.1.201', ['10.0.1.201'])).toBe(true);
    expect(hostFieldMatches('10.0.1.*', ['10.0.1.201'])).toBe(true);
    expect(hostFieldMatches('10.0.1.?', ['10.0.1.201'])).toBe(false);
    expect(hostFieldMatches('10.0.1.*,!10.0.1.201', ['10.0.1.201'])).toBe(false);
    expect(hostFieldMatches('[10.0.1.201]:2222', ['10.0.1.201'])).toBe(false);
    expect(hostFieldMatches('WHISPER', ['whisper'])).toBe(true);
    // A dot in a pattern is literal, not a regex wildcard.
    expect(hostFieldMatches('10.0.1.201', ['10a0b1c201'])).toBe(false);
  });

  it('matches hashed |1|salt|hash entries (HMAC-SHA1 of the name)', () => {
    expect(hostFieldMatches(hashed('[127.0.0.1]:2222'), ['[127.0.0.1]:2222'])).toBe(true);
    expect(hostFieldMatches(hashed('[127.0.0.1]:2222'), ['127.0.0.1'])).toBe(false);
    expect(hostFieldMatches('|1|bad', ['x'])).toBe(false);
  });

  it('classifies keys: trusted, changed, unknown, revoked', () => {
    const entries = parseKnownHosts(`whisper ssh-ed25519 ${b64(A)}\n`);
    expect(checkHostKey(entries, ['whisper'], A)).toEqual({ result: 'trusted' });
    expect(checkHostKey(entries, ['whisper'], B)).toEqual({ result: 'changed', knownTypes: ['ssh-ed25519'], lines: [1] });
    expect(checkHostKey(entries, ['other'], A)).toEqual({ result: 'unknown' });
    const revoked = parseKnownHosts(`whisper ssh-ed25519 ${b64(A)}\n@revoked * ssh-ed25519 ${b64(A)}\n`);
    expect(checkHostKey(revoked, ['whisper'], A)).toEqual({ result: 'revoked' });
  });

  it('trusts a key listed on any line for the host, even if another line has an older key', () => {
    const entries = parseKnownHosts(`whisper ssh-ed25519 ${b64(B)}\nwhisper ssh-ed25519 ${b64(A)}\n`);
    expect(checkHostKey(entries, ['whisper'], A)).toEqual({ result: 'trusted' });
  });

  it('fingerprints like ssh-keygen and compares pins with or without padding/prefix', () => {
    const fp = fingerprintSha256(A);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprintMatches(A, fp)).toBe(true);
    expect(fingerprintMatches(A, fp.slice('SHA256:'.length) + '=')).toBe(true);
    expect(fingerprintMatches(B, fp)).toBe(false);
    expect(keyTypeOfBlob(A)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBe('unknown');
  });

  it('offers the host key algorithms on file for the host, RSA as its SHA-2 variants', () => {
    const entries = parseKnownHosts(`whisper ssh-rsa ${b64(A)}\nwhisper ecdsa-sha2-nistp256 ${b64(B)}\nother ssh-ed25519 ${b64(A)}\n`);
    expect(preferredHostKeyAlgorithms(entries, ['whisper'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
    expect(preferredHostKeyAlgorithms(entries, ['nobody'])).toBeUndefined();
  });
});
