/**
 * The escape suite: every known way out of a files jail, tried through the HTTP API with every files
 * operation, over both transports. Each attempt must be refused (403 PATH_OUTSIDE_ROOT, or 400 for input
 * that can never be a path), never answered with a 500, and after each one the outside world is checked
 * byte for byte: nothing read, nothing written, nothing created, nothing deleted.
 *
 * Layout: the shared escape tree (test/support/jail-tree.ts), plus <base>/outside/dir/deep.txt,
 * <root>/inside.txt, and a second outside directory elsewhere in the temp directory.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sharedSshd } from '../support/context.js';
import { call, sshEnv, startServer, type RunningServer } from '../support/server.js';
import { snapshot } from '../support/tree-snapshot.js';
import { makeJailTree } from '../support/jail-tree.js';

const KEY = 'full-key-0123456789abcdef';

describe.each(['ssh', 'local'] as const)('escaping the files root over the %s transport', (transport) => {
  let server: RunningServer;
  let base: string;
  let root: string;
  let outside: string;
  let evil: string;
  let before: Record<string, string>;
  /** A directory outside everything, for absolute-path attempts. */
  let elsewhere: string;

  const get = (p: string, query: Record<string, string>) => call(server.url, 'GET', p, { key: KEY, query });
  const post = (p: string, body: unknown) => call(server.url, 'POST', p, { key: KEY, body });

  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), `ght-escape-${transport}-`));
    ({ root, outside, evil } = makeJailTree(base));
    elsewhere = mkdtempSync(path.join(os.tmpdir(), `ght-escape-elsewhere-`));
    mkdirSync(path.join(outside, 'dir'));
    writeFileSync(path.join(root, 'inside.txt'), 'inside\n');
    writeFileSync(path.join(outside, 'dir', 'deep.txt'), 'deep secret\n');
    writeFileSync(path.join(elsewhere, 'secret.txt'), 'elsewhere secret\n');
    const hostEnv = transport === 'ssh' ? sshEnv(sharedSshd()) : {};
    server = await startServer({ ...hostEnv, HOST_NAME: 'whisper', FILES_ROOT: root, API_KEY: KEY });
    before = { ...snapshot(outside), ...snapshot(evil), ...snapshot(elsewhere) };
  });

  afterEach(() => {
    // The point of the suite: whatever the answer was, nothing outside the root changed.
    expect({ ...snapshot(outside), ...snapshot(evil), ...snapshot(elsewhere) }).toEqual(before);
    expect(existsSync(path.join(root, 'inside.txt'))).toBe(true);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(base, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  function expectRefused(res: { status: number; body: any; text: string }) {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status: 403, code: 'PATH_OUTSIDE_ROOT' });
    expect(res.text).not.toContain('secret\\n');
  }

  /**
   * Paths naming something outside, by every route there is. `%B` is the base dir, `%E` the elsewhere dir,
   * `%U` a long run of "../" up to "/". Every write, move and delete below targets only these temp
   * directories: if the jail ever regresses, the suite must fail, not damage the machine running it.
   */
  const FILES = [
    '../outside/secret.txt',
    'sub/../../outside/secret.txt',
    '%B/outside/secret.txt',
    '%U%E/secret.txt',
    '%E/secret.txt',
    '../ccpm-evil/secret.txt',
    '%B/ccpm-evil/secret.txt',
    'link-out',
    'dirlink-out/secret.txt',
    'dirlink-out/dir/deep.txt',
    'link-root%B/outside/secret.txt',
    'loop1',
    'loop1/secret.txt',
    'dangling-out',
  ];
  /** System files: only ever read (and refused), never written to, even in a test. */
  const SYSTEM_FILES = ['/etc/passwd', '../../../../../../../../../../etc/passwd', 'link-root/etc/passwd'];
  const DIRS = ['../outside', '%B/outside', '../ccpm-evil', '%B/ccpm-evil', 'dirlink-out', 'dirlink-out/dir', 'link-root', '%E'];
  const READ_DIRS = [...DIRS, '..', '/', '%U'];
  /** Places a new file must not appear at. */
  const NEW_FILES = [
    '../outside/planted.txt',
    '%B/outside/planted.txt',
    '../ccpm-evil/planted.txt',
    '%E/planted.txt',
    '%U%E/planted.txt',
    'dirlink-out/planted.txt',
    'dirlink-out/dir/planted.txt',
    'link-root%E/planted.txt',
    'dangling-out',
    'loop1/planted.txt',
  ];

  const p = (s: string) =>
    s
      .replace('%U', '../'.repeat(30))
      .replace('%B', base)
      .replace('%E', s.startsWith('%U') ? elsewhere.slice(1) : elsewhere);

  describe('reads', () => {
    it.each([...FILES, ...SYSTEM_FILES])('files_read %s', async (f) => expectRefused(await get('/files/read', { path: p(f) })));
    it.each([...FILES, ...SYSTEM_FILES])('files_stat %s', async (f) => expectRefused(await get('/files/stat', { path: p(f) })));
    it.each(READ_DIRS)('files_list %s', async (d) => expectRefused(await get('/files/list', { path: p(d) })));
    it.each(READ_DIRS)('files_search under %s', async (d) => expectRefused(await get('/files/search', { path: p(d), pattern: '*' })));

    it('files_search from the root does not follow links out', async () => {
      const res = await get('/files/search', { pattern: '*secret*' });
      expect(res.status).toBe(200);
      expect(res.body.matches).toEqual([]);
      const all = await get('/files/search', { pattern: '*', max_results: '1000' });
      for (const m of all.body.matches) expect(m.path.startsWith(root + '/')).toBe(true);
      expect(all.body.matches.map((m: any) => m.name)).not.toContain('deep.txt');
    });
  });

  describe('writes', () => {
    it.each([...FILES, ...NEW_FILES])('files_write %s', async (f) => {
      expectRefused(await post('/files/write', { path: p(f), content: 'pwned\n', create_parents: true }));
    });

    it.each(['dirlink-out/a/b/planted.txt', '../outside/a/b/planted.txt', 'link-root%E/a/planted.txt'])(
      'files_write with create_parents %s',
      async (f) => {
        expectRefused(await post('/files/write', { path: p(f), content: 'pwned\n', create_parents: true }));
        expect(existsSync(path.join(outside, 'a'))).toBe(false);
        expect(existsSync(path.join(elsewhere, 'a'))).toBe(false);
      },
    );

    it.each(FILES)('files_edit %s', async (f) => {
      expectRefused(await post('/files/edit', { path: p(f), edits: [{ old_text: 'secret', new_text: 'pwned' }] }));
    });

    it.each([...NEW_FILES, '../outside/newdir', 'dirlink-out/newdir/deeper', 'link-root%E/newdir'])('files_mkdir %s', async (d) => {
      expectRefused(await post('/files/mkdir', { path: p(d) }));
    });
  });

  describe('moves and deletes', () => {
    it.each([...FILES, ...DIRS])('files_move from %s', async (f) => {
      expectRefused(await post('/files/move', { from: p(f), to: 'stolen' }));
      expect(existsSync(path.join(root, 'stolen'))).toBe(false);
    });

    it.each([...FILES, ...NEW_FILES])('files_move to %s', async (f) => {
      expectRefused(await post('/files/move', { from: 'inside.txt', to: p(f), overwrite: true }));
    });

    it.each([...FILES, ...DIRS])('files_delete %s', async (f) => {
      expectRefused(await post('/files/delete', { path: p(f), recursive: true }));
    });

    it('files_delete of the root or its parent', async () => {
      expect((await post('/files/delete', { path: '.', recursive: true })).status).toBe(403);
      // The parent is the suite's own temp directory: never aim a delete at a real one.
      expectRefused(await post('/files/delete', { path: '..', recursive: true }));
      expect(existsSync(root)).toBe(true);
    });
  });

  describe('malformed and encoded paths', () => {
    it('refuses NUL bytes with 400, in a query and in a body', async () => {
      const q = await call(server.url, 'GET', `/files/read?path=inside.txt%00/../../outside/secret.txt`, { key: KEY });
      expect({ status: q.status, code: q.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(q.body.message).toContain('NUL');
      const b = await post('/files/write', { path: 'x\u0000/../../outside/planted.txt', content: 'pwned' });
      expect({ status: b.status, code: b.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it('refuses very long paths and names with 400', async () => {
      expect((await get('/files/read', { path: 'a/'.repeat(2500) })).status).toBe(400);
      expect((await get('/files/read', { path: '../'.repeat(1400) + 'etc/passwd' })).status).toBe(400);
      expect((await get('/files/read', { path: 'x'.repeat(300) })).status).toBe(400);
      expect((await post('/files/write', { path: 'sub/' + 'y'.repeat(300), content: 'x' })).status).toBe(400);
      // Within the input limit of 4096 characters, but longer than PATH_MAX once the root is put in front.
      const relative = Array.from({ length: 20 }, () => 'z'.repeat(203)).join('/');
      expect(relative.length).toBeLessThanOrEqual(4096);
      const deep = await post('/files/write', { path: relative, content: 'x', create_parents: true });
      expect([deep.status, deep.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(existsSync(path.join(root, 'z'.repeat(203)))).toBe(false);
    });

    it('decodes percent-encoded dots once, as any URL, and still refuses them', async () => {
      const single = await call(server.url, 'GET', '/files/read?path=%2e%2e%2foutside%2fsecret.txt', { key: KEY });
      expectRefused(single);
      const upper = await call(server.url, 'GET', '/files/read?path=%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd', { key: KEY });
      expectRefused(upper);
      // Encoded twice, it is a literal name "%2e%2e%2f..." inside the root, which does not exist.
      const twice = await call(server.url, 'GET', '/files/read?path=%252e%252e%252foutside%252fsecret.txt', { key: KEY });
      expect([twice.status, twice.body.code]).toEqual([404, 'FILE_NOT_FOUND']);
      // A backslash is part of a name on POSIX, not a separator.
      const backslash = await get('/files/read', { path: '..\\outside\\secret.txt' });
      expect([backslash.status, backslash.body.code]).toEqual([404, 'FILE_NOT_FOUND']);
    });

    it('answers a symlink loop with 403, never 500', async () => {
      for (const f of ['loop1', 'loop2/x', 'loop1/../inside.txt']) {
        const res = await get('/files/stat', { path: f });
        expect(res.status, f).not.toBe(500);
      }
      expectRefused(await get('/files/stat', { path: 'loop2/x' }));
    });
  });
});
