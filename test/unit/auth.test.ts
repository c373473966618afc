import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppConfig, ApiKeyConfig } from '../../src/config/config.types.js';
import { AuthService } from '../../src/operations/auth.js';
import { appErrorOf } from '../support/errors.js';

const key = (name: string, secret: string, scopes: ApiKeyConfig['scopes']): ApiKeyConfig => ({
  name,
  sha256: createHash('sha256').update(secret).digest('hex'),
  scopes,
});
const authWith = (...keys: ApiKeyConfig[]) => new AuthService({ keys } as AppConfig);
/** The cache of accepted keys, read for its bound. */
const cacheSize = (auth: AuthService) => (auth as unknown as { accepted: Map<string, unknown> }).accepted.size;

const ADMIN = 'admin-secret-0123456789abcdef';
const READER = 'reader-secret-0123456789abcdef';

describe('accepted-key cache', () => {
  it('answers a repeated valid key with the same identity and scopes as the first time', () => {
    const auth = authWith(key('admin', ADMIN, ['read', 'write', 'shell']), key('reader', READER, ['read']));
    for (let i = 0; i < 3; i++) {
      const admin = auth.authenticate(`Bearer ${ADMIN}`);
      expect(admin.keyName).toBe('admin');
      expect([...admin.scopes].sort()).toEqual(['read', 'shell', 'write']);
      const reader = auth.authenticate(`Bearer ${READER}`);
      expect(reader.keyName).toBe('reader');
      expect([...reader.scopes]).toEqual(['read']);
    }
    expect(cacheSize(auth)).toBe(2);
  });

  it('still refuses wrong keys once a valid one is cached, near misses included', () => {
    const auth = authWith(key('admin', ADMIN, ['read', 'write', 'shell']));
    auth.authenticate(`Bearer ${ADMIN}`);
    for (const wrong of [ADMIN.slice(0, -1), ADMIN + 'x', ADMIN.toUpperCase(), `${ADMIN}\u0000`, 'x'.repeat(10_000)]) {
      const err = appErrorOf(() => auth.authenticate(`Bearer ${wrong}`));
      expect(err.status).toBe(401);
      expect(err.code).toBe('UNAUTHORIZED');
    }
    expect(appErrorOf(() => auth.authenticate(undefined)).status).toBe(401);
    expect(appErrorOf(() => auth.authenticate(`Basic ${ADMIN}`)).status).toBe(401);
    // The valid key still works after the refusals.
    expect(auth.authenticate(`bearer   ${ADMIN}  `).keyName).toBe('admin');
  });

  it('holds no more entries than there are configured keys, whatever callers send', () => {
    const auth = authWith(key('admin', ADMIN, ['read']), key('reader', READER, ['read']));
    for (let i = 0; i < 5_000; i++) {
      expect(() => auth.authenticate(`Bearer guess-${i}`)).toThrow();
      if (i % 1000 === 0) auth.authenticate(`Bearer ${i % 2000 === 0 ? ADMIN : READER}`);
    }
    expect(cacheSize(auth)).toBe(2);
  });

  it('follows the configuration: a key removed or rotated in a new configuration is refused there', () => {
    const before = authWith(key('admin', ADMIN, ['read', 'write']));
    expect(before.authenticate(`Bearer ${ADMIN}`).keyName).toBe('admin');
    const rotated = authWith(key('admin', 'rotated-secret-0123456789abcdef', ['read', 'write']));
    expect(appErrorOf(() => rotated.authenticate(`Bearer ${ADMIN}`)).status).toBe(401);
    expect(rotated.authenticate('Bearer rotated-secret-0123456789abcdef').keyName).toBe('admin');
    // A key whose scopes changed answers with the new scopes.
    const narrowed = authWith(key('admin', ADMIN, ['read']));
    expect([...narrowed.authenticate(`Bearer ${ADMIN}`).scopes]).toEqual(['read']);
    // The first service is unaffected by the others.
    expect([...before.authenticate(`Bearer ${ADMIN}`).scopes].sort()).toEqual(['read', 'write']);
  });
});
