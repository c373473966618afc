import { describe, expect, it } from 'vitest';
import { FsError, type FileStats, type FileSystem } from '../../src/infra/files/file-system.js';
import { isInside, PathJail } from '../../src/modules/files/path-jail.js';
import { appErrorOfAsync } from '../support/errors.js';

describe('isInside', () => {
  it.each([
    ['/home/ccpm', '/home/ccpm', true],
    ['/home/ccpm', '/home/ccpm/x', true],
    ['/home/ccpm', '/home/ccpm/x/y', true],
    ['/home/ccpm', '/home/ccpm-evil', false],
    ['/home/ccpm', '/home/ccpm-evil/x', false],
    ['/home/ccpm', '/home/ccpmx', false],
    ['/home/ccpm', '/home', false],
    ['/home/ccpm', '/', false],
    ['/home/ccpm', '/etc/passwd', false],
    ['/', '/', true],
    ['/', '/etc', true],
    ['/tmp/x/ccpm', '/tmp/x/ccpm-evil', false],
  ])('root %s contains %s: %s', (root, p, expected) => {
    expect(isInside(root, p)).toBe(expected);
  });
});

/** Just enough of a FileSystem for the lexical part: every path exists as a directory and is its own realpath. */
function fakeFs(home = '/home/ccpm'): FileSystem & { resolved: string[] } {
  const dir: FileStats = { type: 'directory', size: 0, mode: 0o755, mtimeMs: 0 };
  const resolved: string[] = [];
  const unused = () => Promise.reject(new Error('not used'));
  return {
    resolved,
    home: async () => home,
    resolve: async (p) => {
      resolved.push(p);
      return { path: p, stats: dir };
    },
    lstat: async () => dir,
    readDir: unused,
    openRead: unused,
    createFile: unused,
    rename: unused,
    mkdir: unused,
    unlink: unused,
    rmdir: unused,
  };
}

const failure = appErrorOfAsync;

describe('PathJail.absolute', () => {
  const jail = new PathJail(fakeFs(), '/srv/models', 'whisper');

  it('makes relative paths relative to the root and applies . and .. lexically', async () => {
    expect(await jail.absolute('Modelfile')).toBe('/srv/models/Modelfile');
    expect(await jail.absolute('./a/../b')).toBe('/srv/models/b');
    expect(await jail.absolute('')).toBe('/srv/models');
    expect(await jail.absolute('a//b/')).toBe('/srv/models/a/b');
    expect(await jail.absolute('/etc/passwd')).toBe('/etc/passwd');
    expect(await jail.absolute('../../etc/passwd')).toBe('/etc/passwd');
  });

  it('reads ~ as the account home, not as the root', async () => {
    expect(await jail.absolute('~')).toBe('/home/ccpm');
    expect(await jail.absolute('~/x')).toBe('/home/ccpm/x');
    expect(await jail.absolute('~other/x')).toBe('/srv/models/~other/x');
  });

  it('refuses NUL bytes with 400', async () => {
    const e = await failure(jail.absolute('Modelfile\0/../../etc/passwd'));
    expect(e.status).toBe(400);
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toContain('NUL');
  });

  it('refuses paths and names longer than the host allows with 400', async () => {
    expect((await failure(jail.absolute('a/'.repeat(2100)))).status).toBe(400);
    const e = await failure(jail.absolute('x'.repeat(256)));
    expect(e.status).toBe(400);
    expect(e.message).toContain('255');
    expect(await jail.absolute('x'.repeat(255))).toBe('/srv/models/' + 'x'.repeat(255));
  });
});

describe('PathJail root', () => {
  it('defaults to the account home, resolved once', async () => {
    const fs = fakeFs('/home/ccpm');
    const jail = new PathJail(fs, undefined, 'whisper');
    expect(await jail.root()).toBe('/home/ccpm');
    await jail.root();
    expect(fs.resolved.filter((p) => p === '/home/ccpm')).toHaveLength(1);
  });

  it('says which root is missing and does not remember the failure', async () => {
    const fs = fakeFs();
    let exists = false;
    const real = fs.resolve;
    fs.resolve = async (p) => {
      if (!exists) throw new FsError('ENOENT', 'realpath', p);
      return real(p);
    };
    const jail = new PathJail(fs, '/srv/models', 'whisper');
    const e = await failure(jail.root());
    expect(e.status).toBe(503);
    expect(e.message).toContain('/srv/models');
    expect(e.message).toContain("'whisper'");
    exists = true;
    expect(await jail.root()).toBe('/srv/models');
  });

  it('refuses a root that is a file', async () => {
    const fs = fakeFs();
    fs.resolve = async (p) => ({ path: p, stats: { type: 'file', size: 1, mode: 0o644, mtimeMs: 0 } });
    expect((await failure(new PathJail(fs, '/srv/models', 'whisper').root())).status).toBe(503);
  });
});
