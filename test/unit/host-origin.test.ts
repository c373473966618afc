import { describe, expect, it } from 'vitest';
import { HostOriginPolicy } from '../../src/common/host-origin.js';
import { loadConfig } from '../../src/config/load-config.js';
import { configErrorOf } from '../support/errors.js';

const KEY = { name: 'api_key', sha256: 'a'.repeat(64), scopes: ['read' as const] };
const policy = (o: { keys?: boolean; allowed?: string[]; cors?: string[]; bind?: string } = {}) =>
  new HostOriginPolicy({
    keys: o.keys ? [KEY] : [],
    allowed_hosts: o.allowed ?? [],
    cors_origins: o.cors ?? [],
    bind_address: o.bind ?? '127.0.0.1',
  });
const codeOf = (p: HostOriginPolicy, host: string | undefined, origin?: string, method = 'POST') =>
  p.check({ method, host, origin })?.code ?? 'ok';

/** Names that reach this machine however a client spells them. */
const LOOPBACK_HOSTS = [
  'localhost',
  'localhost:8000',
  'LOCALHOST:8000',
  'LocalHost',
  'localhost.',
  'localhost.:8000',
  '127.0.0.1',
  '127.0.0.1:8000',
  '127.0.0.1.:1',
  '127.255.1.2:65535',
  '[::1]',
  '[::1]:8000',
  '[0:0:0:0:0:0:0:1]:8000',
  '[::ffff:127.0.0.1]:8000',
  '[::FFFF:7F00:1]',
];

/** Names an attacker's DNS can point at 127.0.0.1, and other machines. */
const FOREIGN_HOSTS = [
  'attacker.example:8000',
  'attacker.example',
  'ATTACKER.EXAMPLE.',
  '127.attacker.example',
  '127.0.0.1.attacker.example:8000',
  'localhost.attacker.example',
  'attacker-localhost',
  '192.0.2.2:8000',
  '10.0.0.1',
  '0.0.0.0:8000',
  '[::2]:8000',
  '[::]:8000',
  '[fe80::1]',
  '0x7f000001',
  '2130706433',
  `${'a'.repeat(63)}.`.repeat(60) + 'example',
];

/** Values that are not a Host at all. */
const MALFORMED_HOSTS = [
  'localhost..',
  '[fe80::1%25eth0]:8000',
  '[::1',
  '::1',
  '[::1]x',
  '[::1]:',
  'localhost:',
  'localhost:abc',
  'localhost:99999',
  'localhost:8000:9000',
  'user@localhost',
  'localhost/x',
  'http://localhost',
  'local host',
  'localhost\t',
  '',
  'a'.repeat(64),
];

describe('HostOriginPolicy', () => {
  it('without keys accepts only loopback names, whatever the method', () => {
    const p = policy();
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      for (const h of LOOPBACK_HOSTS) expect(codeOf(p, h, undefined, method), h).toBe('ok');
      for (const h of FOREIGN_HOSTS) expect(codeOf(p, h, undefined, method), h).toBe('HOST_NOT_ALLOWED');
      // HTTP/1.0 may leave Host out: no name, so not a loopback one.
      expect(codeOf(p, undefined, undefined, method)).toBe('HOST_NOT_ALLOWED');
    }
  });

  it('answers 400 to a Host header that is not a host[:port], keys or not', () => {
    for (const p of [policy(), policy({ keys: true }), policy({ keys: true, allowed: ['tools.lan'] })]) {
      for (const h of MALFORMED_HOSTS) {
        const refusal = p.check({ method: 'GET', host: h });
        expect(refusal, h).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
        expect(refusal!.message).toContain('The Host header');
      }
    }
  });

  it('accepts the bind address and ALLOWED_HOSTS, a port in an entry narrowing it to that port', () => {
    const p = policy({ allowed: ['gpu-host-tools:8000', 'Tools.LAN.', '[2001:db8::5]', '192.0.2.9:80'], bind: 'myhost.lan' });
    for (const h of [
      'gpu-host-tools:8000',
      'GPU-HOST-TOOLS.:8000',
      'tools.lan',
      'tools.lan:1234',
      '[2001:db8:0::5]:8000',
      '192.0.2.9:80',
      'myhost.lan:8000',
    ])
      expect(codeOf(p, h), h).toBe('ok');
    for (const h of ['gpu-host-tools', 'gpu-host-tools:8001', 'x.tools.lan', '[2001:db8::6]', '192.0.2.9', '192.0.2.9:8000', 'myhost'])
      expect(codeOf(p, h), h).toBe('HOST_NOT_ALLOWED');
  });

  it('never treats an unspecified bind address (0.0.0.0, ::) as a name', () => {
    for (const bind of ['0.0.0.0', '::']) {
      const p = policy({ keys: true, allowed: ['tools.lan'], bind });
      expect(codeOf(p, '0.0.0.0:8000')).toBe('HOST_NOT_ALLOWED');
      expect(codeOf(p, '[::]:8000')).toBe('HOST_NOT_ALLOWED');
    }
    expect(codeOf(policy({ bind: '::1' }), '[::1]:8000')).toBe('ok');
  });

  it('with keys accepts any Host, unless ALLOWED_HOSTS is set', () => {
    const open = policy({ keys: true });
    for (const h of [...LOOPBACK_HOSTS, ...FOREIGN_HOSTS]) expect(codeOf(open, h, undefined, 'POST'), h).toBe('ok');
    expect(codeOf(open, undefined)).toBe('ok');
    const narrowed = policy({ keys: true, allowed: ['tools.lan'] });
    for (const h of LOOPBACK_HOSTS) expect(codeOf(narrowed, h), h).toBe('ok');
    for (const h of FOREIGN_HOSTS) expect(codeOf(narrowed, h), h).toBe('HOST_NOT_ALLOWED');
    expect(codeOf(narrowed, 'tools.lan:8000')).toBe('ok');
  });

  it('refuses a foreign Origin on every method but GET and HEAD, keys or not', () => {
    const foreign = [
      'http://attacker.example:8000',
      'http://localhost:8001',
      'http://localhost',
      'http://127.0.0.1:8000',
      'http://localhost:8000.attacker.example',
      'ftp://localhost:8000',
      'file://',
      'null',
      '',
      'not a url',
      'http://user@localhost:8000',
      'http://localhost:8000/path',
    ];
    for (const keys of [false, true]) {
      const p = policy({ keys });
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'post']) {
        for (const o of foreign) expect(codeOf(p, 'localhost:8000', o, method), `${method} ${o}`).toBe('ORIGIN_NOT_ALLOWED');
      }
      for (const method of ['GET', 'HEAD', 'get']) for (const o of foreign) expect(codeOf(p, 'localhost:8000', o, method), o).toBe('ok');
    }
    // With keys and no Host (HTTP/1.0), there is no own origin to match.
    expect(codeOf(policy({ keys: true }), undefined, 'http://localhost')).toBe('ORIGIN_NOT_ALLOWED');
  });

  it("accepts the server's own origin, compared as host and port with the scheme's default port", () => {
    const p = policy({ keys: true });
    const own: Array<[string, string]> = [
      ['localhost:8000', 'http://localhost:8000'],
      ['LOCALHOST:8000', 'http://localhost:8000'],
      ['localhost.:8000', 'http://localhost.:8000'],
      ['[::1]:8000', 'http://[::1]:8000'],
      ['[0:0::1]:8000', 'http://[::1]:8000'],
      ['tools.lan', 'http://tools.lan'],
      ['tools.lan:80', 'http://tools.lan'],
      ['tools.lan', 'https://tools.lan'],
      ['tools.lan:443', 'https://tools.lan'],
      ['192.0.2.2:8000', 'http://192.0.2.2:8000'],
    ];
    for (const [host, origin] of own) expect(codeOf(p, host, origin), `${host} ${origin}`).toBe('ok');
    for (const [host, origin] of [
      ['tools.lan:443', 'http://tools.lan'],
      ['tools.lan:80', 'https://tools.lan'],
      ['tools.lan:8000', 'http://tools.lan'],
      ['tools.lan', 'http://tools.lan:8000'],
    ])
      expect(codeOf(p, host, origin), `${host} ${origin}`).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('accepts CORS_ORIGINS exactly as configured', () => {
    const p = policy({ cors: ['http://openwebui.lan:3000'] });
    expect(codeOf(p, 'localhost:8000', 'http://openwebui.lan:3000')).toBe('ok');
    expect(codeOf(p, 'localhost:8000', 'http://openwebui.lan:3001')).toBe('ORIGIN_NOT_ALLOWED');
    expect(codeOf(p, 'localhost:8000', 'https://openwebui.lan:3000')).toBe('ORIGIN_NOT_ALLOWED');
    // An allowed Origin does not make a foreign Host acceptable.
    expect(codeOf(p, 'openwebui.lan:8000', 'http://openwebui.lan:3000')).toBe('HOST_NOT_ALLOWED');
  });

  it('names the header and the setting in a refusal, with the value made printable and short', () => {
    const host = policy().check({ method: 'GET', host: `evil-${'x'.repeat(50)}.`.repeat(6) + 'example' });
    expect(host).toMatchObject({ status: 403, code: 'HOST_NOT_ALLOWED' });
    expect(host!.message).toContain(`Host header "evil-${'x'.repeat(50)}.evil-${'x'.repeat(39)}..."`);
    const malformed = policy().check({ method: 'GET', host: 'evil\u0000\u001b[31m.example' });
    expect(malformed!.message).toContain('Host header "evil??[31m.example"');
    expect(malformed!.message).toMatch(/^[\x20-\x7e]*$/);
    expect(host!.message).toContain('ALLOWED_HOSTS');
    expect(host!.message).toMatch(/^[\x20-\x7e]*$/);
    expect(host!.message.length).toBeLessThan(400);
    const origin = policy().check({ method: 'POST', host: 'localhost', origin: 'http://attacker.example' });
    expect(origin).toMatchObject({ status: 403, code: 'ORIGIN_NOT_ALLOWED' });
    expect(origin!.message).toContain('Origin header "http://attacker.example"');
    expect(origin!.message).toContain('CORS_ORIGINS');
  });
});

describe('ALLOWED_HOSTS in the configuration', () => {
  const configError = (env: NodeJS.ProcessEnv) => configErrorOf({ HOME: '/home/me', ...env });

  it('accepts names, addresses and ports, trimmed around commas', () => {
    const c = loadConfig({ HOME: '/home/me', ALLOWED_HOSTS: 'gpu-host-tools:8000, tools.lan ,[::1]:8000,192.0.2.2' });
    expect(c.allowed_hosts).toEqual(['gpu-host-tools:8000', 'tools.lan', '[::1]:8000', '192.0.2.2']);
  });

  it('stops at a malformed entry with one line naming ALLOWED_HOSTS', () => {
    for (const bad of [
      'http://tools.lan',
      'tools.lan/',
      'tools.lan/mcp',
      'tools lan',
      'a,,b',
      'a,',
      ' , ',
      'tools.lan:99999',
      '*.lan',
      '::1',
      'user@tools.lan',
    ]) {
      const message = configError({ ALLOWED_HOSTS: bad });
      expect(message, bad).toMatch(/^ALLOWED_HOSTS: ".*" is not a host name/);
      expect(message).not.toContain('\n');
    }
  });

  it('names the YAML entry when the file holds it', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/ght-allowed-`);
    try {
      writeFileSync(`${dir}/c.yaml`, 'server:\n  allowed_hosts: [tools.lan, "https://tools.lan"]\n');
      expect(configError({ CONFIG_FILE: `${dir}/c.yaml` })).toMatch(/^server\.allowed_hosts\[1\]: "https:\/\/tools\.lan" is not/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
