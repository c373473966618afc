/**
 * The FileSystem contract, checked for both adapters against the real thing: node:fs, and OpenSSH's
 * sftp-server through ssh2 (the test sshd runs as this user on this machine, so fixtures are made with
 * node:fs and both adapters see the same files).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsError, type FileSystem } from '../../src/infra/files/file-system.js';
import { LocalFileSystem } from '../../src/infra/files/local-file-system.js';
import { sharedSshd } from '../support/context.js';
import { sftpFileSystem } from '../support/sftp.js';

let closeSftp: (() => void) | undefined;
afterAll(() => closeSftp?.());

async function fsCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FsError);
    return (err as FsError).code;
  }
  throw new Error('expected the call to fail');
}

describe.each(['local', 'sftp'] as const)('FileSystem over %s', (kind) => {
  let fs: FileSystem;
  let dir: string;

  beforeAll(async () => {
    if (kind === 'local') fs = new LocalFileSystem();
    else {
      const session = await sftpFileSystem(sharedSshd());
      fs = session.fs;
      closeSftp = session.close;
    }
  });

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), `ght-fs-${kind}-`));
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'f.txt'), 'hello\n');
    symlinkSync(path.join(dir, 'sub', 'f.txt'), path.join(dir, 'link'));
    symlinkSync(path.join(dir, 'sub'), path.join(dir, 'dirlink'));
    symlinkSync('/nonexistent/target', path.join(dir, 'dangling'));
    symlinkSync(path.join(dir, 'loop2'), path.join(dir, 'loop1'));
    symlinkSync(path.join(dir, 'loop1'), path.join(dir, 'loop2'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the home directory', async () => {
    expect(await fs.home()).toBe(os.homedir());
  });

  it('resolves existing paths through symlinks', async () => {
    const r = await fs.resolve(path.join(dir, 'link'));
    expect(r.path).toBe(path.join(dir, 'sub', 'f.txt'));
    expect(r.stats).toMatchObject({ type: 'file', size: 6 });
    expect((await fs.resolve(path.join(dir, 'dirlink', 'f.txt'))).path).toBe(path.join(dir, 'sub', 'f.txt'));
    expect((await fs.resolve(path.join(dir, 'sub'))).stats.type).toBe('directory');
  });

  it('refuses to resolve what does not exist, a missing last name included', async () => {
    // OpenSSH's realpath alone would answer this one: the adapter must not.
    expect(await fsCode(fs.resolve(path.join(dir, 'missing')))).toBe('ENOENT');
    expect(await fsCode(fs.resolve(path.join(dir, 'missing', 'deeper')))).toBe('ENOENT');
    expect(await fsCode(fs.resolve(path.join(dir, 'dangling')))).toBe('ENOENT');
    expect(['ENOENT', 'ELOOP']).toContain(await fsCode(fs.resolve(path.join(dir, 'loop1'))));
    expect(['ENOENT', 'ENOTDIR']).toContain(await fsCode(fs.resolve(path.join(dir, 'sub', 'f.txt', 'x'))));
  });

  it('lstats a symlink as a symlink', async () => {
    expect((await fs.lstat(path.join(dir, 'dangling'))).type).toBe('symlink');
    expect((await fs.lstat(path.join(dir, 'sub', 'f.txt'))).mode).toBe(statSync(path.join(dir, 'sub', 'f.txt')).mode & 0o7777);
    expect(await fsCode(fs.lstat(path.join(dir, 'nope')))).toBe('ENOENT');
  });

  it('lists a directory up to a limit, without . and ..', async () => {
    const all = await fs.readDir(dir, 100);
    expect(all.truncated).toBe(false);
    expect(all.entries.map((e) => e.name).sort()).toEqual(['dangling', 'dirlink', 'link', 'loop1', 'loop2', 'sub']);
    expect(all.entries.find((e) => e.name === 'dirlink')!.stats.type).toBe('symlink');
    expect(all.entries.find((e) => e.name === 'sub')!.stats.type).toBe('directory');
    const some = await fs.readDir(dir, 2);
    expect(some.entries).toHaveLength(2);
    expect(some.truncated).toBe(true);
  });

  it('reads ranges through a handle, short only at the end', async () => {
    const big = Buffer.alloc(700 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 10)) & 0xff;
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, big);
    const h = await fs.openRead(file);
    try {
      expect(h.stats).toMatchObject({ type: 'file', size: big.length });
      expect((await h.read(1000, 300 * 1024)).equals(big.subarray(1000, 1000 + 300 * 1024))).toBe(true);
      expect((await h.read(big.length - 10, 100)).equals(big.subarray(big.length - 10))).toBe(true);
      expect((await h.read(big.length, 100)).length).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('opens a directory but says it is one (the service refuses to read it)', async () => {
    const h = await fs.openRead(path.join(dir, 'sub'));
    expect(h.stats.type).toBe('directory');
    await h.close();
  });

  it('creates files exclusively, never through a symlink, with the exact mode asked for', async () => {
    const file = path.join(dir, 'new.txt');
    await fs.createFile(file, Buffer.from('data'), 0o640);
    expect(readFileSync(file, 'utf8')).toBe('data');
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    expect(await fsCode(fs.createFile(file, Buffer.from('other')))).toBe('EEXIST');
    expect(readFileSync(file, 'utf8')).toBe('data');
    // A dangling symlink at the path: O_EXCL refuses it and nothing is created where it points.
    const outside = mkdtempSync(path.join(os.tmpdir(), 'ght-fs-outside-'));
    symlinkSync(path.join(outside, 'planted'), path.join(dir, 'planted'));
    expect(await fsCode(fs.createFile(path.join(dir, 'planted'), Buffer.from('x')))).toBe('EEXIST');
    expect(existsSync(path.join(outside, 'planted'))).toBe(false);
    rmSync(outside, { recursive: true });
  });

  it('creates a new file with the default permissions when no mode is given', async () => {
    const file = path.join(dir, 'default-mode.txt');
    await fs.createFile(file, Buffer.alloc(0));
    expect(statSync(file).mode & 0o777).toBe(0o666 & ~process.umask());
  });

  it('renames with and without replacing', async () => {
    const a = path.join(dir, 'ra');
    const b = path.join(dir, 'rb');
    writeFileSync(a, 'A');
    writeFileSync(b, 'B');
    expect(await fsCode(fs.rename(a, b, false))).toBe('EEXIST');
    expect(readFileSync(a, 'utf8')).toBe('A');
    expect(readFileSync(b, 'utf8')).toBe('B');
    await fs.rename(a, b, true);
    expect(existsSync(a)).toBe(false);
    expect(readFileSync(b, 'utf8')).toBe('A');
    await fs.rename(b, path.join(dir, 'rc'), false);
    expect(readFileSync(path.join(dir, 'rc'), 'utf8')).toBe('A');
  });

  it('renames directories and moves a symlink as the link itself', async () => {
    mkdirSync(path.join(dir, 'd1'));
    writeFileSync(path.join(dir, 'd1', 'x'), 'x');
    await fs.rename(path.join(dir, 'd1'), path.join(dir, 'd2'), false);
    expect(readFileSync(path.join(dir, 'd2', 'x'), 'utf8')).toBe('x');
    mkdirSync(path.join(dir, 'd3'));
    expect(await fsCode(fs.rename(path.join(dir, 'd2'), path.join(dir, 'd3'), false))).toBe('EEXIST');
    symlinkSync(path.join(dir, 'sub', 'f.txt'), path.join(dir, 'l1'));
    await fs.rename(path.join(dir, 'l1'), path.join(dir, 'l2'), false);
    expect(readlinkSync(path.join(dir, 'l2'))).toBe(path.join(dir, 'sub', 'f.txt'));
    expect(readFileSync(path.join(dir, 'sub', 'f.txt'), 'utf8')).toBe('hello\n');
  });

  it('makes and removes directories, saying why when it cannot', async () => {
    const d = path.join(dir, 'mk');
    await fs.mkdir(d);
    expect(statSync(d).isDirectory()).toBe(true);
    expect(await fsCode(fs.mkdir(d))).toBe('EEXIST');
    expect(await fsCode(fs.mkdir(path.join(dir, 'dangling')))).toBe('EEXIST');
    expect(await fsCode(fs.mkdir(path.join(dir, 'no', 'such')))).toBe('ENOENT');
    writeFileSync(path.join(d, 'f'), '');
    expect(await fsCode(fs.rmdir(d))).toBe('ENOTEMPTY');
    await fs.unlink(path.join(d, 'f'));
    await fs.rmdir(d);
    expect(existsSync(d)).toBe(false);
  });

  it('unlinks a symlink, not its target', async () => {
    symlinkSync(path.join(dir, 'sub', 'f.txt'), path.join(dir, 'l3'));
    await fs.unlink(path.join(dir, 'l3'));
    expect(lstatSync(path.join(dir, 'sub', 'f.txt')).isFile()).toBe(true);
    expect(existsSync(path.join(dir, 'l3'))).toBe(false);
  });
});
