/**
 * PathJail over both real adapters: node:fs and OpenSSH's sftp-server. The fixture is the shared escape
 * layout (test/support/jail-tree.ts: a root, a sibling whose name starts with the root's, an outside
 * directory and the links that lead out), plus links that stay inside.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSystem } from '../../src/infra/files/file-system.js';
import { LocalFileSystem } from '../../src/infra/files/local-file-system.js';
import { PathJail } from '../../src/modules/files/path-jail.js';
import { sharedSshd } from '../support/context.js';
import { appErrorOfAsync } from '../support/errors.js';
import { makeJailTree } from '../support/jail-tree.js';
import { sftpFileSystem } from '../support/sftp.js';

let closeSftp: (() => void) | undefined;
afterAll(() => closeSftp?.());

async function sftpFs(): Promise<FileSystem> {
  const session = await sftpFileSystem(sharedSshd());
  closeSftp = session.close;
  return session.fs;
}

const refusal = appErrorOfAsync;

describe.each(['local', 'sftp'] as const)('PathJail over %s', (kind) => {
  let base: string;
  let root: string;
  let jail: PathJail;
  let fs: FileSystem;

  beforeAll(async () => {
    fs = kind === 'local' ? new LocalFileSystem() : await sftpFs();
    base = mkdtempSync(path.join(os.tmpdir(), `ght-jail-${kind}-`));
    ({ root } = makeJailTree(base));
    writeFileSync(path.join(root, 'file.txt'), 'inside\n');
    symlinkSync(path.join(root, 'file.txt'), path.join(root, 'link-inside'));
    symlinkSync('sub', path.join(root, 'relative-dirlink'));
    symlinkSync(path.join(root, 'nothing'), path.join(root, 'dangling-in'));
    symlinkSync(root, path.join(root, 'self'));
    symlinkSync(root, path.join(base, 'root-alias'));
    jail = new PathJail(fs, root, 'whisper');
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  describe('existing()', () => {
    it.each([
      ['file.txt', 'ccpm/file.txt'],
      ['./sub/../file.txt', 'ccpm/file.txt'],
      ['link-inside', 'ccpm/file.txt'],
      ['relative-dirlink', 'ccpm/sub'],
      ['self/file.txt', 'ccpm/file.txt'],
      ['', 'ccpm'],
    ])('resolves %j inside the root', async (input, expected) => {
      expect((await jail.existing(input)).path).toBe(path.join(base, expected));
    });

    it('accepts an absolute path spelled through a symlink to the root', async () => {
      expect((await jail.existing(path.join(base, 'root-alias', 'file.txt'))).path).toBe(path.join(root, 'file.txt'));
    });

    it.each([
      '../outside/secret.txt',
      '../../../../../../../../etc/passwd',
      '/etc/passwd',
      '/etc/no-such-file',
      '..',
      '../ccpm-evil/secret.txt',
      '../ccpm-evil',
      'link-out',
      'dirlink-out/secret.txt',
      'dirlink-out/no-such-file',
      'link-root/etc/passwd',
      'link-root',
      'loop1',
      'loop1/x',
      'dangling-out',
      'dangling-in',
    ])('refuses %j with 403 PATH_OUTSIDE_ROOT', async (input) => {
      const e = await refusal(jail.existing(input));
      expect([e.status, e.code]).toEqual([403, 'PATH_OUTSIDE_ROOT']);
      expect(e.message).toContain("'whisper'");
      // Where an outside path or link leads is not told.
      expect(e.message).not.toContain(path.join(base, 'outside'));
      expect(e.message).not.toContain(path.join(base, 'ccpm-evil'));
    });

    it('applies ".." to the text before resolving, so "self/.." is the root, not the root\'s parent', async () => {
      const e = await refusal(jail.existing('self/../outside/secret.txt'));
      expect([e.status, e.code]).toEqual([404, 'FILE_NOT_FOUND']);
      expect(e.message).toContain(path.join(root, 'outside', 'secret.txt'));
    });

    it('answers 404 for a missing path inside the root, naming where to look', async () => {
      const e = await refusal(jail.existing('sub/missing/deeper'));
      expect([e.status, e.code]).toEqual([404, 'FILE_NOT_FOUND']);
      expect(e.message).toContain(path.join(root, 'sub', 'missing', 'deeper'));
      expect(e.message).toContain('files_list');
    });
  });

  describe('target()', () => {
    it('allows new paths inside, with the names still to create', async () => {
      const t = await jail.target('sub/a/b/new.txt');
      expect(t).toEqual({
        path: path.join(root, 'sub/a/b/new.txt'),
        existing: null,
        missing: ['a', 'b', 'new.txt'],
        ancestor: path.join(root, 'sub'),
      });
    });

    it('writes through a symlink that stays inside to its target', async () => {
      const t = await jail.target('link-inside');
      expect(t.path).toBe(path.join(root, 'file.txt'));
      expect(t.existing?.type).toBe('file');
    });

    it.each([
      '../outside/new.txt',
      '../ccpm-evil/new.txt',
      '/tmp/new.txt',
      'link-out',
      'dirlink-out/new.txt',
      'dirlink-out/a/b/new.txt',
      'link-root/tmp/new.txt',
      'loop1',
      'loop1/new.txt',
      'dangling-out',
      'dangling-in',
    ])('refuses %j with 403 PATH_OUTSIDE_ROOT', async (input) => {
      const e = await refusal(jail.target(input));
      expect([e.status, e.code]).toEqual([403, 'PATH_OUTSIDE_ROOT']);
    });

    it('refuses a path below a file with 400', async () => {
      expect((await refusal(jail.target('file.txt/x'))).status).toBe(400);
    });
  });

  describe('entry()', () => {
    it('gives the link itself for a symlink that stays inside', async () => {
      const e = await jail.entry('link-inside', 'files_delete');
      expect(e.path).toBe(path.join(root, 'link-inside'));
      expect(e.stats?.type).toBe('symlink');
      expect((await jail.entry('self', 'files_delete')).path).toBe(path.join(root, 'self'));
    });

    it('gives a missing entry when allowed', async () => {
      expect(await jail.entry('sub/new-name', 'files_move', true)).toEqual({ path: path.join(root, 'sub', 'new-name'), stats: null });
      expect((await refusal(jail.entry('sub/new-name', 'files_move'))).status).toBe(404);
      expect((await refusal(jail.entry('no-dir/new-name', 'files_move', true))).status).toBe(404);
    });

    it.each(['', '.', 'sub/..', '<root>'])('refuses the root itself (%j) with 403 FORBIDDEN', async (input) => {
      const e = await refusal(jail.entry(input === '<root>' ? root : input, 'files_delete'));
      expect([e.status, e.code]).toEqual([403, 'FORBIDDEN']);
      expect(e.message).toContain('files root itself');
    });

    it('refuses the root spelled through a symlink outside it (its parent is outside)', async () => {
      const e = await refusal(jail.entry(path.join(base, 'root-alias'), 'files_delete'));
      expect(e.status).toBe(403);
    });

    it.each([
      'link-out',
      'dirlink-out',
      'dirlink-out/secret.txt',
      'link-root',
      'loop1',
      'dangling-out',
      '../outside/secret.txt',
      '../ccpm-evil/secret.txt',
      '..',
    ])('refuses %j with 403 PATH_OUTSIDE_ROOT', async (input) => {
      const e = await refusal(jail.entry(input, 'files_delete', true));
      expect([e.status, e.code]).toEqual([403, 'PATH_OUTSIDE_ROOT']);
    });
  });
});
