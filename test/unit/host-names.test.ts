/** src/config/host-names.ts: loopback names, Host header values, and the host-name and fingerprint rules. */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { HostInput } from '../../src/common/host-input.dto.js';
import {
  HOST_KEY_FINGERPRINT_PATTERN,
  HOST_KEY_FINGERPRINT_RULE,
  HOST_NAME_PATTERN,
  isLoopback,
  parseHostAndPort,
} from '../../src/config/host-names.js';
import { fingerprintMatches, fingerprintSha256 } from '../../src/infra/ssh/known-hosts.js';
import { SshTransport } from '../../src/infra/ssh/ssh-transport.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';
import { configErrorOf } from '../support/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ght-host-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Host names', () => {
  it('knows loopback literals and nothing that merely starts like one', () => {
    for (const a of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1'])
      expect(isLoopback(a), a).toBe(true);
    for (const a of ['127.attacker.example', '127.', '128.0.0.1', '::2', '0.0.0.0', '::', 'localhost.example', '127.0.0.1.nip.io'])
      expect(isLoopback(a), a).toBe(false);
  });

  it('parses the Host forms and nothing else', () => {
    expect(parseHostAndPort('Tools.LAN.:8080')).toEqual({ hostname: 'tools.lan', port: 8080 });
    expect(parseHostAndPort('[0:0::1]:1')).toEqual({ hostname: '::1', port: 1 });
    expect(parseHostAndPort('gpu_host-tools')).toEqual({ hostname: 'gpu_host-tools' });
    for (const bad of ['', ':80', 'a b', 'http://a', 'a/b', 'a:80/x', '[::1', '::1', 'a:-1', 'a:1e3', '.a', 'a..b', '*.lan', 'a:65536'])
      expect(parseHostAndPort(bad), bad).toBeUndefined();
  });
});

/** The names of the hosts `env` loads, or the ConfigError's message. */
function hostsOrError(env: NodeJS.ProcessEnv): string[] | string {
  try {
    return loadConfig(env).hosts.map((h) => h.name);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
}

describe('HOST_NAME_PATTERN', () => {
  const GOOD = ['a', 'Z', '0', 'gpu-01', 'GPU_box', 'a-_-b', 'x'.repeat(63), 'constructor'];
  // Lookalikes and near misses: non-ASCII letters that case-fold to ASCII (ſ, K), full-width
  // letters, a trailing newline, separators that would split a URL, label or log line.
  const BAD = [
    '',
    '-a',
    '_a',
    'x'.repeat(64),
    'a b',
    'a.b',
    'a/b',
    '../a',
    'a:1',
    'gp\u00fc',
    '\u017f',
    '\u212a',
    '\uff41',
    'a\n',
    '\na',
    'a\0',
    'a%2f',
  ];

  it('accepts ASCII letters, digits, - and _ up to 63 characters, starting with a letter or digit', () => {
    for (const name of GOOD) expect(HOST_NAME_PATTERN.test(name), JSON.stringify(name)).toBe(true);
    for (const name of BAD) expect(HOST_NAME_PATTERN.test(name), JSON.stringify(name)).toBe(false);
  });

  it('is the rule of the YAML hosts and keys, HOST_NAME and the host of a request alike', () => {
    const file = path.join(dir, 'names.yaml');
    // An empty HOST_NAME is no name at all: it counts as unset.
    for (const name of [...GOOD, ...BAD.filter((n) => n !== '')]) {
      const accepted = HOST_NAME_PATTERN.test(name);
      const label = JSON.stringify(name);
      const request = validateSync(plainToInstance(HostInput, { host: name }), { whitelist: true, forbidNonWhitelisted: true });
      expect(request.length === 0, `request host ${label}`).toBe(accepted);
      if (!accepted)
        expect(Object.values(request[0]!.constraints!)).toEqual(['host must be a configured host name (letters, digits, - or _)']);

      expect(hostsOrError({ HOME: '/h', HOST_NAME: name }), `HOST_NAME ${label}`).toEqual(
        accepted ? [name] : `HOST_NAME: must be letters, digits, - or _ (got "${name}")`,
      );
      writeFileSync(file, JSON.stringify({ hosts: { [name]: {} }, keys: { [name]: { key: 'k'.repeat(16), scopes: ['read'] } } }));
      expect(hostsOrError({ HOME: '/h', CONFIG_FILE: file }), `YAML key ${label}`).toEqual(
        accepted ? [name] : `keys.${name}: key names must be letters, digits, - or _`,
      );
      writeFileSync(file, JSON.stringify({ hosts: { [name]: {} } }));
      expect(hostsOrError({ HOME: '/h', CONFIG_FILE: file }), `YAML host ${label}`).toEqual(
        accepted ? [name] : `hosts.${name}: host names must be letters, digits, - or _ (at most 63)`,
      );
    }
  });
});

describe('HOST_KEY_FINGERPRINT_PATTERN', () => {
  const blob = Buffer.from('ssh-ed25519 test key blob');
  const printed = fingerprintSha256(blob); // SHA256:<43 characters>, as ssh-keygen -l prints it
  const digest = createHash('sha256').update(blob).digest('base64'); // with its "=" padding
  const GOOD = [printed, `SHA256:${digest}`, 'SHA256:' + 'A'.repeat(43), 'SHA256:' + '+/09azAZ'.repeat(5) + 'abc'];
  const BAD = [
    '',
    digest,
    printed.slice('SHA256:'.length),
    `sha256:${digest}`,
    `Sha256:${digest}`,
    ` ${printed}`,
    `${printed} `,
    `${printed}\n`,
    `${printed}==`,
    printed.slice(0, -1),
    `${printed}A`,
    'SHA256:' + '-_'.repeat(21) + 'A', // base64url is not what ssh-keygen prints
    'MD5:' + 'aa:'.repeat(15) + 'aa',
    `SHA256:${digest}`.replace('=', '%3D'),
  ];

  it('accepts SHA256: and 43 base64 characters, the padding optional, and nothing else', () => {
    expect(printed).toMatch(/^SHA256:.{43}$/);
    for (const fp of GOOD) expect(HOST_KEY_FINGERPRINT_PATTERN.test(fp), JSON.stringify(fp)).toBe(true);
    for (const fp of BAD) expect(HOST_KEY_FINGERPRINT_PATTERN.test(fp), JSON.stringify(fp)).toBe(false);
  });

  it('is the rule of SSH_HOST_KEY_FINGERPRINT, the YAML and the SSH transport alike; a padded pin still matches', () => {
    const transport = (fp: string) =>
      new SshTransport({ name: 'gpu', host: '127.0.0.1', username: 'me', privateKeyPath: '/nonexistent/key', hostKeyFingerprint: fp });
    const file = path.join(dir, 'fp.yaml');
    for (const fp of [...GOOD, ...BAD.filter(Boolean)]) {
      const label = JSON.stringify(fp);
      const env = { HOME: '/h', SSH_HOST: 'gpu', SSH_HOST_KEY_FINGERPRINT: fp };
      writeFileSync(file, JSON.stringify({ hosts: { gpu: { ssh: { host: 'gpu', host_key_fingerprint: fp } } } }));
      if (HOST_KEY_FINGERPRINT_PATTERN.test(fp)) {
        expect(loadConfig(env).hosts[0]!.ssh!.host_key_fingerprint, label).toBe(fp);
        expect(loadConfig({ HOME: '/h', CONFIG_FILE: file }).hosts[0]!.ssh!.host_key_fingerprint, label).toBe(fp);
        expect(() => transport(fp), label).not.toThrow();
      } else {
        expect(configErrorOf(env), label).toBe(
          `SSH_HOST_KEY_FINGERPRINT / hosts.default.ssh.host_key_fingerprint: must look like ${HOST_KEY_FINGERPRINT_RULE}`,
        );
        expect(configErrorOf({ HOME: '/h', CONFIG_FILE: file }), label).toBe(
          `hosts.gpu.ssh.host_key_fingerprint (env SSH_HOST_KEY_FINGERPRINT): must look like ${HOST_KEY_FINGERPRINT_RULE}`,
        );
        expect(() => transport(fp), label).toThrow(`ssh host "gpu": host key fingerprint must look like ${HOST_KEY_FINGERPRINT_RULE}`);
      }
    }
    expect(HOST_KEY_FINGERPRINT_RULE).toBe('SHA256:<43 base64 characters>');
    expect(fingerprintMatches(blob, printed)).toBe(true);
    expect(fingerprintMatches(blob, `SHA256:${digest}`)).toBe(true);
    expect(fingerprintMatches(blob, 'SHA256:' + 'A'.repeat(43))).toBe(false);
  });
});
