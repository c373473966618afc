import { describe, expect, it } from 'vitest';
import { DEFAULT_PROTECTED_PATHS, ProtectedPaths } from '../../src/modules/files/protected-paths.js';

describe('ProtectedPaths', () => {
  const rules = new ProtectedPaths();
  const rule = (p: string, orHolds = false) => rules.match(p, orHolds)?.rule ?? null;

  it.each([
    ['/home/ccpm/.ssh', '.ssh'],
    ['/home/ccpm/.ssh/id_ed25519', '.ssh'],
    ['/home/ccpm/.ssh/authorized_keys', '.ssh'],
    ['/root/.bashrc', '.bashrc'],
    ['/home/ccpm/.config/gh/hosts.yml', '.config/gh'],
    ['/home/ccpm/.config/systemd/user/evil.service', '.config/systemd/user'],
    ['/home/ccpm/.docker/config.json', '.docker/config.json'],
    ['/usr/share/ollama/.ollama/id_ed25519', '.ollama/id_ed25519'],
    // Another user's home under a root of /home, and a project's own credentials.
    ['/home/other/.aws/credentials', '.aws'],
    ['/srv/src/project/.git-credentials', '.git-credentials'],
    // Case does not matter (case-insensitive host file systems).
    ['/home/ccpm/.SSH/id_rsa', '.ssh'],
    ['/home/ccpm/.Config/GH', '.config/gh'],
    ['/home/ccpm/.xauthority', '.Xauthority'],
    ['/etc/shadow', '/etc/shadow'],
    ['/etc/cron.d/evil', '/etc/cron.d'],
    ['/var/spool/cron/crontabs/root', '/var/spool/cron'],
  ])('%s is protected by %s', (p, expected) => {
    expect(rule(p)).toBe(expected);
  });

  it.each([
    '/home/ccpm',
    '/home/ccpm/models/Modelfile',
    '/home/ccpm/.config',
    '/home/ccpm/.config/ghostty/config',
    '/home/ccpm/.docker/buildx',
    '/home/ccpm/.ollama/models/blobs/sha256-abc',
    '/home/ccpm/.ollama/id_ed25519.pub',
    '/home/ccpm/.sshd',
    '/home/ccpm/notes/.ssh.txt',
    '/srv/etc/shadow',
    '/etc/shadow-backup-notes',
    '/',
  ])('%s is not protected', (p) => {
    expect(rule(p)).toBeNull();
  });

  it('names what a move or delete would take out of protection, only when asked', () => {
    expect(rule('/home/ccpm/.config', true)).toMatch(/^\.config\//);
    expect(rule('/home/ccpm/.docker', true)).toBe('.docker/config.json');
    expect(rule('/home/ccpm/.ollama', true)).toBe('.ollama/id_ed25519');
    expect(rules.match('/home/ccpm/.config', true)?.holds).toBe(true);
    expect(rules.match('/home/ccpm/.ssh', true)).toEqual({ rule: '.ssh', holds: false });
    expect(rule('/etc', true)).not.toBeNull();
    expect(rule('/var/spool', true)).toBe('/var/spool/cron');
    expect(rule('/home/ccpm/models', true)).toBeNull();
    expect(rule('/home/ccpm/.config/other', true)).toBeNull();
  });

  it('takes a configured list: "default" stands for the built-in one, "~/" is the same as nothing', () => {
    const extended = new ProtectedPaths(['default', '~/secrets', '/srv/vault/']);
    expect(extended.match('/home/ccpm/secrets/token')?.rule).toBe('secrets');
    expect(extended.match('/srv/vault')?.rule).toBe('/srv/vault/');
    expect(extended.match('/home/ccpm/.ssh/id_rsa')?.rule).toBe('.ssh');
    const replaced = new ProtectedPaths(['.netrc']);
    expect(replaced.match('/home/ccpm/.ssh/id_rsa')).toBeNull();
    expect(replaced.match('/home/ccpm/.netrc')?.rule).toBe('.netrc');
    const none = new ProtectedPaths([]);
    expect(none.empty).toBe(true);
    expect(none.match('/home/ccpm/.ssh/id_rsa')).toBeNull();
  });

  it('covers the credential and login files people keep', () => {
    for (const name of ['.ssh', '.gnupg', '.netrc', '.aws', '.kube', '.pgpass', '.my.cnf', '.password-store', '.vault-token'])
      expect(DEFAULT_PROTECTED_PATHS).toContain(name);
    for (const name of [
      '.bashrc',
      '.bash_profile',
      '.profile',
      '.zshrc',
      '.zshenv',
      '.config/fish',
      '.pam_environment',
      '.config/autostart',
    ])
      expect(DEFAULT_PROTECTED_PATHS).toContain(name);
  });

  it('costs a few look-ups per name, whatever the path (2048 names that all start rules)', () => {
    const deep = '/' + Array.from({ length: 2048 }, () => '.config').join('/');
    const started = performance.now();
    for (let i = 0; i < 100; i++) rules.match(deep, true);
    expect(rules.match(deep)).toBeNull();
    // 100 checks of 2048 names: a few milliseconds; the bound only catches a blow-up.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
