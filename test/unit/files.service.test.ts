/**
 * FilesService on its own, without the server: the real HostRegistry for one local host whose files
 * root is a fresh temp directory, so every call goes through the real jail and node:fs, and faults
 * (a full disk, a rename that loses a race, an unreadable directory) are injected by spying on that
 * host's FileSystem. Fast enough to run on every change to the service.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { FsError, type FileSystem } from '../../src/infra/files/file-system.js';
import { HostRegistry } from '../../src/infra/host-registry.js';
import { FilesService } from '../../src/modules/files/files.service.js';
import { appErrorOfAsync } from '../support/errors.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

let base: string;
let root: string;
let outside: string;
let hosts: HostRegistry;
let fs: FileSystem;
let files: FilesService;
const at = (...names: string[]) => path.join(root, ...names);

beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'ght-files-service-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'notes'), { recursive: true });
  mkdirSync(path.join(root, '.ssh'));
  mkdirSync(outside);
  writeFileSync(at('notes', 'todo.md'), 'one\ntwo\nthree\n');
  writeFileSync(at('.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
  writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  symlinkSync(outside, at('out'));
  hosts = new HostRegistry(loadConfig({ HOST_NAME: 'whisper', FILES_ROOT: root }));
  fs = hosts.get('whisper').files;
  files = new FilesService(hosts);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await hosts.onApplicationShutdown();
  rmSync(base, { recursive: true, force: true });
});

/** The AppError a call rejects with, as [status, code]. */
async function refusal(p: Promise<unknown>): Promise<[number, string, string]> {
  const e = await appErrorOfAsync(p);
  return [e.status, e.code, e.message];
}

/** Names in a directory that look like our temp files. */
const tempFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.ght-tmp'));

describe('every operation', () => {
  const calls: Array<[string, (p: string) => Promise<unknown>]> = [
    ['files_list', (p) => files.files_list({ path: p })],
    ['files_stat', (p) => files.files_stat({ path: p })],
    ['files_read', (p) => files.files_read({ path: p })],
    ['files_search', (p) => files.files_search({ path: p, pattern: '*' })],
    ['files_write', (p) => files.files_write({ path: p + '/new.txt', content: 'x' })],
    ['files_edit', (p) => files.files_edit({ path: p, edits: [{ old_text: 'secret', new_text: 'x' }] })],
    ['files_mkdir', (p) => files.files_mkdir({ path: p + '/d' })],
    ['files_move', (p) => files.files_move({ from: p, to: 'moved' })],
    ['files_delete', (p) => files.files_delete({ path: p, recursive: true })],
  ];

  it.each(calls)('%s refuses a path outside the root, through a link or not, and changes nothing', async (_op, run) => {
    for (const p of ['out/secret.txt', '../outside/secret.txt', path.join(outside, 'secret.txt')]) {
      const [status, code, message] = await refusal(run(p));
      expect([status, code]).toEqual([403, 'PATH_OUTSIDE_ROOT']);
      expect(message).toContain("host 'whisper'");
      // Where a link leads outside is not told.
      if (p.startsWith('out/')) expect(message).not.toContain(outside);
    }
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret\n');
  });

  it.each(calls)('%s refuses a protected path (and what is inside it) with 403 PATH_PROTECTED', async (_op, run) => {
    for (const p of ['.ssh/id_ed25519', '.ssh']) {
      const [status, code, message] = await refusal(run(p));
      expect([status, code]).toEqual([403, 'PATH_PROTECTED']);
      expect(message).toContain("'.ssh'");
    }
    expect(readFileSync(at('.ssh', 'id_ed25519'), 'utf8')).toBe('PRIVATE KEY\n');
  });

  it('answers 404 HOST_NOT_FOUND for a host that is not configured', async () => {
    const [status, code, message] = await refusal(files.files_stat({ host: 'nope', path: 'notes' }));
    expect([status, code]).toEqual([404, 'HOST_NOT_FOUND']);
    expect(message).toContain('whisper');
  });
});

describe('files_list and files_stat', () => {
  it('lists by name with types and octal modes, the protected directory by name only', async () => {
    writeFileSync(at('notes', 'b.txt'), 'b');
    chmodSync(at('notes', 'b.txt'), 0o600);
    const res = await files.files_list({});
    expect(res.path).toBe(root);
    expect(res.entries.map((e) => [e.name, e.type])).toEqual([
      ['.ssh', 'directory'],
      ['notes', 'directory'],
      ['out', 'symlink'],
    ]);
    const notes = await files.files_list({ path: 'notes' });
    expect(notes.entries.map((e) => [e.name, e.mode, e.size_bytes])).toEqual([
      ['b.txt', '0600', 1],
      ['todo.md', '0644', 14],
    ]);
  });

  it('cuts a long listing at max_entries and says how to see the rest', async () => {
    for (let i = 0; i < 5; i++) writeFileSync(at('notes', `f${i}`), '');
    const res = await files.files_list({ path: 'notes', max_entries: 2 });
    expect(res.entries.map((e) => e.name)).toEqual(['f0', 'f1']);
    expect(res.truncated).toBe(true);
    expect(res.note).toContain('Showing 2 of 6 entries');
  });

  it('refuses a file given to files_list with 400, and a missing path with 404', async () => {
    expect((await refusal(files.files_list({ path: 'notes/todo.md' }))).slice(0, 2)).toEqual([400, 'VALIDATION_FAILED']);
    const [status, code, message] = await refusal(files.files_stat({ path: 'notes/nope' }));
    expect([status, code]).toEqual([404, 'FILE_NOT_FOUND']);
    expect(message).toContain(at('notes', 'nope'));
  });

  it('stats what a link inside the root leads to', async () => {
    symlinkSync('todo.md', at('notes', 'link'));
    expect(await files.files_stat({ path: 'notes/link' })).toMatchObject({ path: at('notes', 'todo.md'), type: 'file', size_bytes: 14 });
  });
});

describe('files_read', () => {
  it('reads text whole with the hash of the file', async () => {
    const res = await files.files_read({ path: 'notes/todo.md' });
    expect(res).toMatchObject({ content: 'one\ntwo\nthree\n', encoding: 'utf-8', truncated: false, next_offset: null });
    expect(res.sha256).toBe(sha256('one\ntwo\nthree\n'));
  });

  it('pages with offset and max_bytes, the hash still of the whole file', async () => {
    const res = await files.files_read({ path: 'notes/todo.md', offset: 4, max_bytes: 4 });
    expect(res).toMatchObject({ content: 'two\n', offset: 4, length_bytes: 4, truncated: true, next_offset: 8 });
    expect(res.note).toContain('Read on with offset 8');
    expect(res.sha256).toBe(sha256('one\ntwo\nthree\n'));
  });

  it('returns bytes that are not UTF-8 as base64', async () => {
    writeFileSync(at('bin'), Buffer.from([0xff, 0x00, 0x01]));
    expect(await files.files_read({ path: 'bin' })).toMatchObject({ content: '/wAB', encoding: 'base64' });
  });

  it('refuses an offset past the end and a directory with 400', async () => {
    expect((await refusal(files.files_read({ path: 'notes/todo.md', offset: 15 })))[2]).toContain('past the end');
    expect((await refusal(files.files_read({ path: 'notes' })))[2]).toContain('is a directory, not a file');
  });

  it('leaves the hash out of files over 8 MiB and says why', async () => {
    writeFileSync(at('big'), Buffer.alloc(8 * MiB + 1, 0x61));
    const res = await files.files_read({ path: 'big', max_bytes: 10 });
    expect(res.sha256).toBeNull();
    expect(res.sha256_note).toContain('8 MiB');
  });

  it('turns a read the host fails into 503 naming the host and the path, and closes the file', async () => {
    const open = fs.openRead.bind(fs);
    let closed = false;
    vi.spyOn(fs, 'openRead').mockImplementation(async (p) => {
      const handle = await open(p);
      return {
        stats: handle.stats,
        read: async () => Promise.reject(new FsError('EIO', 'read', p, 'Input/output error')),
        close: async () => {
          closed = true;
          await handle.close();
        },
      };
    });
    const [status, code, message] = await refusal(files.files_read({ path: 'notes/todo.md' }));
    expect([status, code]).toEqual([503, 'HOST_ERROR']);
    expect(message).toContain(`read ${at('notes', 'todo.md')} on host 'whisper'`);
    expect(closed).toBe(true);
  });
});

describe('files_search', () => {
  beforeEach(() => {
    mkdirSync(at('notes', 'deep', 'er'), { recursive: true });
    writeFileSync(at('notes', 'deep', 'er', 'Modelfile-b'), '');
    writeFileSync(at('notes', 'Modelfile-a'), '');
    writeFileSync(at('.ssh', 'Modelfile-key'), '');
  });

  it('finds names shallowest first, and never what is inside a protected directory', async () => {
    const res = await files.files_search({ pattern: 'Modelfile*' });
    expect(res.matches.map((m) => m.path)).toEqual([at('notes', 'Modelfile-a'), at('notes', 'deep', 'er', 'Modelfile-b')]);
    expect(res).toMatchObject({ truncated: false, stopped_reason: null, unreadable_directories: 0 });
  });

  it('stops at max_results and says so', async () => {
    const res = await files.files_search({ pattern: 'Modelfile*', max_results: 1 });
    expect(res.matches).toHaveLength(1);
    expect(res).toMatchObject({ truncated: true, stopped_reason: 'max_results' });
    expect(res.note).toContain('Stopped after 1 matches');
  });

  it('skips a directory it cannot read and counts it; another failure is an error naming the host', async () => {
    const readDir = fs.readDir.bind(fs);
    const spy = vi
      .spyOn(fs, 'readDir')
      .mockImplementation((p, limit) =>
        p === at('notes', 'deep') ? Promise.reject(new FsError('EACCES', 'readdir', p)) : readDir(p, limit),
      );
    const res = await files.files_search({ pattern: 'Modelfile*' });
    expect(res.matches.map((m) => m.name)).toEqual(['Modelfile-a']);
    expect(res.unreadable_directories).toBe(1);
    spy.mockImplementation((p, limit) => (p === at('notes') ? Promise.reject(new FsError('EIO', 'readdir', p)) : readDir(p, limit)));
    const [status, , message] = await refusal(files.files_search({ pattern: 'x' }));
    expect(status).toBe(503);
    expect(message).toContain(`search ${at('notes')} on host 'whisper'`);
  });

  it('refuses a malformed pattern and a file to search under with 400', async () => {
    expect((await refusal(files.files_search({ pattern: '[z-a]' })))[2]).toContain('malformed');
    expect((await refusal(files.files_search({ path: 'notes/todo.md', pattern: '*' })))[2]).toContain('search under a directory');
  });
});

describe('files_write', () => {
  it('creates a file, and replaces one keeping its mode, leaving no temp file', async () => {
    expect(await files.files_write({ path: 'notes/new.md', content: 'hi\n' })).toEqual({
      path: at('notes', 'new.md'),
      size_bytes: 3,
      sha256: sha256('hi\n'),
      created: true,
    });
    chmodSync(at('notes', 'todo.md'), 0o640);
    expect((await files.files_write({ path: 'notes/todo.md', content: 'new' })).created).toBe(false);
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('new');
    expect(statSync(at('notes', 'todo.md')).mode & 0o7777).toBe(0o640);
    expect(tempFiles(at('notes'))).toEqual([]);
  });

  it('writes base64 byte for byte and refuses base64 that is not', async () => {
    await files.files_write({ path: 'b', content: '/wAB', encoding: 'base64' });
    expect(readFileSync(at('b'))).toEqual(Buffer.from([0xff, 0, 1]));
    const [status, , message] = await refusal(files.files_write({ path: 'c', content: '/wA*', encoding: 'base64' }));
    expect(status).toBe(400);
    expect(message).toContain('not valid base64');
    expect(existsSync(at('c'))).toBe(false);
  });

  it('needs create_parents for missing directories', async () => {
    const [status, code, message] = await refusal(files.files_write({ path: 'a/b/c.txt', content: 'x' }));
    expect([status, code]).toEqual([404, 'FILE_NOT_FOUND']);
    expect(message).toContain(`The directory ${at('a')} does not exist`);
    expect(existsSync(at('a'))).toBe(false);
    await files.files_write({ path: 'a/b/c.txt', content: 'x', create_parents: true });
    expect(readFileSync(at('a', 'b', 'c.txt'), 'utf8')).toBe('x');
  });

  it('refuses a stale expected_sha256, or one for a file that is gone, with 409 and writes nothing', async () => {
    const [status, , message] = await refusal(files.files_write({ path: 'notes/todo.md', content: 'x', expected_sha256: 'a'.repeat(64) }));
    expect(status).toBe(409);
    expect(message).toContain(`its sha256 is ${sha256('one\ntwo\nthree\n')}`);
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect((await refusal(files.files_write({ path: 'gone.md', content: 'x', expected_sha256: 'A'.repeat(64) })))[2]).toContain(
      'does not exist, but expected_sha256 was given',
    );
    expect(existsSync(at('gone.md'))).toBe(false);
    // The right hash, in capitals, is the right hash.
    await files.files_write({ path: 'notes/todo.md', content: 'x', expected_sha256: sha256('one\ntwo\nthree\n').toUpperCase() });
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('x');
  });

  it('refuses content over 10 MiB with 413 and a directory with 400', async () => {
    expect((await refusal(files.files_write({ path: 'big', content: 'x'.repeat(10 * MiB + 1) }))).slice(0, 2)).toEqual([413, 'TOO_LARGE']);
    expect((await refusal(files.files_write({ path: 'notes', content: 'x' })))[0]).toBe(400);
    expect(existsSync(at('big'))).toBe(false);
  });

  it('when the rename fails, removes its temp file and keeps the old content', async () => {
    vi.spyOn(fs, 'rename').mockRejectedValue(new FsError('EIO', 'rename', 'x', 'Failure'));
    const [status, code, message] = await refusal(files.files_write({ path: 'notes/todo.md', content: 'new' }));
    expect([status, code]).toEqual([503, 'HOST_ERROR']);
    expect(message).toContain(`write ${at('notes', 'todo.md')} on host 'whisper'`);
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(tempFiles(at('notes'))).toEqual([]);
  });

  it('when something appears at a new path meanwhile, keeps it: 409, and no temp file', async () => {
    const rename = fs.rename.bind(fs);
    vi.spyOn(fs, 'rename').mockImplementation(async (from, to, overwrite) => {
      writeFileSync(to, 'theirs');
      return rename(from, to, overwrite);
    });
    const [status, , message] = await refusal(files.files_write({ path: 'notes/race.md', content: 'mine' }));
    expect(status).toBe(409);
    expect(message).toContain('was created by someone else while writing');
    expect(readFileSync(at('notes', 'race.md'), 'utf8')).toBe('theirs');
    expect(tempFiles(at('notes'))).toEqual([]);
  });

  it('a full disk is 503 saying so, with nothing left behind', async () => {
    vi.spyOn(fs, 'createFile').mockRejectedValue(new FsError('ENOSPC', 'create', 'x'));
    const [status, , message] = await refusal(files.files_write({ path: 'notes/todo.md', content: 'new' }));
    expect(status).toBe(503);
    expect(message).toContain('no space left on the device');
    expect(readdirSync(at('notes'))).toEqual(['todo.md']);
  });
});

describe('files_edit', () => {
  const edits = [{ old_text: 'two', new_text: 'TWO' }];

  it('previews with dry_run (the hash of the current content) and then applies', async () => {
    const dry = await files.files_edit({ path: 'notes/todo.md', edits, dry_run: true });
    expect(dry).toMatchObject({ applied: false, sha256: sha256('one\ntwo\nthree\n') });
    expect(dry.diff).toContain('-two\n+TWO\n');
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('one\ntwo\nthree\n');
    const done = await files.files_edit({ path: 'notes/todo.md', edits, expected_sha256: dry.sha256 });
    expect(done).toEqual({ path: at('notes', 'todo.md'), diff: dry.diff, sha256: sha256('one\nTWO\nthree\n'), applied: true });
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('one\nTWO\nthree\n');
    expect(tempFiles(at('notes'))).toEqual([]);
  });

  it('writes nothing when the edits change nothing', async () => {
    const before = statSync(at('notes', 'todo.md')).mtimeMs;
    const res = await files.files_edit({ path: 'notes/todo.md', edits: [{ old_text: 'two', new_text: 'two' }] });
    expect(res).toMatchObject({ applied: false, diff: '' });
    expect(statSync(at('notes', 'todo.md')).mtimeMs).toBe(before);
  });

  it('refuses an ambiguous or missing old_text with 409 and changes nothing', async () => {
    writeFileSync(at('notes', 'todo.md'), 'x\nx\n');
    expect((await refusal(files.files_edit({ path: 'notes/todo.md', edits: [{ old_text: 'x', new_text: 'y' }] })))[2]).toContain(
      'found 2 times',
    );
    expect((await refusal(files.files_edit({ path: 'notes/todo.md', edits: [{ old_text: 'z', new_text: 'y' }] })))[2]).toContain(
      'was not found',
    );
    expect(readFileSync(at('notes', 'todo.md'), 'utf8')).toBe('x\nx\n');
  });

  it('refuses a file that is not UTF-8 text with 400, pointing to files_write', async () => {
    writeFileSync(at('bin'), Buffer.from([0x61, 0xff, 0x62]));
    const [status, , message] = await refusal(files.files_edit({ path: 'bin', edits: [{ old_text: 'a', new_text: 'b' }] }));
    expect(status).toBe(400);
    expect(message).toContain('not a UTF-8 text file');
    expect(message).toContain('files_write');
  });

  it('refuses a stale expected_sha256 with 409', async () => {
    const [status, , message] = await refusal(files.files_edit({ path: 'notes/todo.md', edits, expected_sha256: 'b'.repeat(64) }));
    expect(status).toBe(409);
    expect(message).toContain('has changed');
  });

  it('refuses a file over 10 MiB, and an edit that would make it so, with 413', async () => {
    writeFileSync(at('big'), Buffer.alloc(10 * MiB + 1, 0x61));
    expect((await refusal(files.files_edit({ path: 'big', edits: [{ old_text: 'a', new_text: 'b' }] })))[0]).toBe(413);
    writeFileSync(at('almost'), 'x' + 'a'.repeat(10 * MiB - 1));
    const [status, , message] = await refusal(files.files_edit({ path: 'almost', edits: [{ old_text: 'x', new_text: 'yy' }] }));
    expect(status).toBe(413);
    expect(message).toContain('would be');
    expect(statSync(at('almost')).size).toBe(10 * MiB);
  });

  it('refuses a file that grew past the limit between the check and the read with 413', async () => {
    const open = fs.openRead.bind(fs);
    vi.spyOn(fs, 'openRead').mockImplementation(async (p) => {
      writeFileSync(p, Buffer.alloc(10 * MiB + 1, 0x61));
      return open(p);
    });
    const [status, , message] = await refusal(files.files_edit({ path: 'notes/todo.md', edits }));
    expect(status).toBe(413);
    expect(message).toContain('larger than 10 MiB');
  });
});

describe('files_mkdir', () => {
  it('creates missing levels, is fine with an existing directory, refuses an existing file', async () => {
    expect(await files.files_mkdir({ path: 'a/b/c' })).toEqual({ path: at('a', 'b', 'c'), created: true });
    expect(statSync(at('a', 'b', 'c')).isDirectory()).toBe(true);
    expect(await files.files_mkdir({ path: 'a/b' })).toEqual({ path: at('a', 'b'), created: false });
    expect((await refusal(files.files_mkdir({ path: 'notes/todo.md' })))[0]).toBe(409);
  });

  it('refuses a symlink planted where a level was about to be created', async () => {
    const mkdir = fs.mkdir.bind(fs);
    vi.spyOn(fs, 'mkdir').mockImplementation(async (p) => {
      if (p === at('a')) {
        symlinkSync(outside, p);
        throw new FsError('EEXIST', 'mkdir', p);
      }
      return mkdir(p);
    });
    const [status, , message] = await refusal(files.files_mkdir({ path: 'a/b' }));
    expect(status).toBe(409);
    expect(message).toContain('already exists and is not a directory');
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });
});

describe('files_move', () => {
  it('moves, refusing to replace unless told, and never over a directory', async () => {
    expect(await files.files_move({ from: 'notes/todo.md', to: 'todo.md' })).toEqual({ from: at('notes', 'todo.md'), to: at('todo.md') });
    writeFileSync(at('other.md'), 'other');
    expect((await refusal(files.files_move({ from: 'other.md', to: 'todo.md' })))[2]).toContain('pass overwrite: true');
    await files.files_move({ from: 'other.md', to: 'todo.md', overwrite: true });
    expect(readFileSync(at('todo.md'), 'utf8')).toBe('other');
    expect((await refusal(files.files_move({ from: 'todo.md', to: 'notes', overwrite: true })))[2]).toContain(
      'is a directory and is never replaced',
    );
  });

  it('refuses a directory into itself with 400 and the root itself with 403', async () => {
    expect((await refusal(files.files_move({ from: 'notes', to: 'notes/inner' })))[0]).toBe(400);
    expect((await refusal(files.files_move({ from: '.', to: 'x' }))).slice(0, 2)).toEqual([403, 'FORBIDDEN']);
  });

  it('keeps what appeared at the target while moving: 409', async () => {
    vi.spyOn(fs, 'rename').mockRejectedValue(new FsError('EEXIST', 'rename', 'x'));
    expect((await refusal(files.files_move({ from: 'notes/todo.md', to: 'new.md' })))[2]).toContain('appeared while moving');
    expect(existsSync(at('notes', 'todo.md'))).toBe(true);
  });
});

describe('files_delete', () => {
  it('deletes a file, a directory only with recursive, and a link rather than its target', async () => {
    mkdirSync(at('notes', 'sub'));
    writeFileSync(at('notes', 'sub', 'x'), '');
    symlinkSync(outside, at('notes', 'sub', 'link'));
    expect((await refusal(files.files_delete({ path: 'notes' })))[2]).toContain('pass recursive: true');
    expect(await files.files_delete({ path: 'notes', recursive: true })).toEqual({
      path: at('notes'),
      type: 'directory',
      entries_deleted: 5,
    });
    expect(existsSync(at('notes'))).toBe(false);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    symlinkSync(at('.ssh'), at('keys-link'));
    expect((await refusal(files.files_delete({ path: 'keys-link' })))[1]).toBe('PATH_PROTECTED');
    writeFileSync(at('kept.md'), 'kept');
    symlinkSync(at('kept.md'), at('kept-link'));
    expect(await files.files_delete({ path: 'kept-link' })).toEqual({ path: at('kept-link'), type: 'symlink', entries_deleted: 1 });
    expect(readFileSync(at('kept.md'), 'utf8')).toBe('kept');
  });

  it('refuses a recursive delete that would take a protected file with it, before deleting anything', async () => {
    mkdirSync(at('notes', 'proj'));
    writeFileSync(at('notes', 'proj', '.git-credentials'), 'token');
    const [status, code, message] = await refusal(files.files_delete({ path: 'notes', recursive: true }));
    expect([status, code]).toEqual([403, 'PATH_PROTECTED']);
    expect(message).toContain(at('notes', 'proj', '.git-credentials'));
    expect(existsSync(at('notes', 'todo.md'))).toBe(true);
  });

  it('stops when the directory was swapped for a link since the check', async () => {
    const resolve = fs.resolve.bind(fs);
    // The jail looks at the entry without following it; the delete's own look then finds a link to outside.
    vi.spyOn(fs, 'resolve').mockImplementation(async (p) => (p === at('notes') ? resolve(outside) : resolve(p)));
    const [status, , message] = await refusal(files.files_delete({ path: 'notes', recursive: true }));
    expect(status).toBe(409);
    expect(message).toContain('changed while it was being deleted');
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(existsSync(at('notes', 'todo.md'))).toBe(true);
  });
});
