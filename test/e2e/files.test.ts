/**
 * The files operations end to end: the built server, over the ssh transport (SFTP to the test sshd) and
 * the local one. The sshd runs as this user on this machine, so both see the same temp directory as their
 * files root, and fixtures are made and checked with node:fs.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSshd } from '../support/context.js';
import { connectMcp } from '../support/mcp-client.js';
import { call, sshEnv, startServer, type RunningServer, expectError } from '../support/server.js';

const FULL = 'full-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const hostEnv = (transport: 'ssh' | 'local') => (transport === 'ssh' ? sshEnv(sharedSshd()) : { HOST_NAME: 'whisper' });

describe.each(['ssh', 'local'] as const)('files over the %s transport', (transport) => {
  let server: RunningServer;
  let base: string;
  let root: string;
  const get = (p: string, query: Record<string, string>, key = READ) => call(server.url, 'GET', p, { key, query });
  const post = (p: string, body: unknown, key = FULL) => call(server.url, 'POST', p, { key, body });
  const at = (...parts: string[]) => path.join(root, ...parts);

  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), `ght-files-${transport}-`));
    root = path.join(base, 'ccpm');
    mkdirSync(root);
    server = await startServer({ ...hostEnv(transport), FILES_ROOT: root, API_KEY: FULL, READONLY_API_KEY: READ });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  describe('files_list and files_stat', () => {
    beforeAll(() => {
      mkdirSync(at('list', 'sub'), { recursive: true });
      writeFileSync(at('list', 'b.txt'), 'bee\n');
      writeFileSync(at('list', 'a.txt'), 'a');
      chmodSync(at('list', 'a.txt'), 0o600);
      symlinkSync('a.txt', at('list', 'c-link'));
    });

    it('lists a directory sorted by name with types, sizes, times and modes', async () => {
      const res = await get('/files/list', { path: 'list' });
      expect(res.status).toBe(200);
      expect(res.body.path).toBe(at('list'));
      expect(res.body.truncated).toBe(false);
      expect(res.body.entries.map((e: any) => [e.name, e.type])).toEqual([
        ['a.txt', 'file'],
        ['b.txt', 'file'],
        ['c-link', 'symlink'],
        ['sub', 'directory'],
      ]);
      const a = res.body.entries[0];
      expect(a).toMatchObject({ path: at('list', 'a.txt'), size_bytes: 1, mode: '0600' });
      expect(Math.abs(Date.parse(a.modified_at) - statSync(at('list', 'a.txt')).mtimeMs)).toBeLessThan(1500);
    });

    it('lists the root when no path is given', async () => {
      const res = await get('/files/list', {});
      expect(res.status).toBe(200);
      expect(res.body.path).toBe(root);
      expect(res.body.entries.map((e: any) => e.name)).toContain('list');
    });

    it('stops at 1000 entries and says so', async () => {
      mkdirSync(at('many'));
      for (let i = 0; i < 1005; i++) writeFileSync(at('many', `f${String(i).padStart(4, '0')}`), '');
      const res = await get('/files/list', { path: 'many', max_entries: '1000' });
      expect(res.status).toBe(200);
      expect(res.body.entries).toHaveLength(1000);
      expect(res.body.truncated).toBe(true);
      expect(res.body.note).toContain('1000 of more than 1000 entries');
      // Without max_entries the answer is cut to the default answer size, and says how to get more.
      const byDefault = await get('/files/list', { path: 'many' });
      expect(byDefault.text.length).toBeLessThanOrEqual(12 * 1024);
      expect(byDefault.body.entries.length).toBeLessThan(1000);
      expect(byDefault.body.entries[0].name).toBe('f0000');
      expect(byDefault.body.note).toContain('Pass max_entries');
    });

    it('says what to do for a missing path, and for a file given to list', async () => {
      const missing = await get('/files/list', { path: 'list/nope' });
      expectError(missing, 404, 'FILE_NOT_FOUND');
      expect(missing.body.message).toContain(`No file or directory ${at('list', 'nope')} on host 'whisper'`);
      expect(missing.body.message).toContain('files_list');
      const file = await get('/files/list', { path: 'list/a.txt' });
      expectError(file, 400, 'VALIDATION_FAILED');
      expect(file.body.message).toContain('files_read');
    });

    it('describes files and directories, following a symlink', async () => {
      const res = await get('/files/stat', { path: 'list/c-link' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ path: at('list', 'a.txt'), type: 'file', size_bytes: 1, mode: '0600' });
      const dir = await get('/files/stat', { path: at('list', 'sub') });
      expect(dir.body).toMatchObject({ path: at('list', 'sub'), type: 'directory' });
      expectError(await get('/files/stat', { path: 'list/nope' }), 404, 'FILE_NOT_FOUND');
    });
  });

  describe('files_read', () => {
    it('reads a small text file whole, with its hash and time', async () => {
      writeFileSync(at('Modelfile'), 'FROM gemma:2b\nPARAMETER temperature 0.8\n');
      const res = await get('/files/read', { path: 'Modelfile' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        path: at('Modelfile'),
        content: 'FROM gemma:2b\nPARAMETER temperature 0.8\n',
        encoding: 'utf-8',
        size_bytes: 40,
        offset: 0,
        length_bytes: 40,
        truncated: false,
        next_offset: null,
        sha256: sha256('FROM gemma:2b\nPARAMETER temperature 0.8\n'),
      });
      expect(res.body.sha256_note).toBeUndefined();
      expect(Number.isNaN(Date.parse(res.body.modified_at))).toBe(false);
    });

    it('pages through a file with offset and max_bytes', async () => {
      const text = Array.from({ length: 500 }, (_, i) => `line ${i}\n`).join('');
      writeFileSync(at('paged.txt'), text);
      let offset = 0;
      let out = '';
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThan(10);
        const res = await get('/files/read', { path: 'paged.txt', offset: String(offset), max_bytes: '1000' });
        expect(res.status).toBe(200);
        expect(res.body.sha256).toBe(sha256(text));
        out += res.body.content;
        if (res.body.next_offset === null) {
          expect(res.body.truncated).toBe(false);
          break;
        }
        expect(res.body.truncated).toBe(true);
        expect(res.body.next_offset).toBe(offset + 1000);
        offset = res.body.next_offset;
      }
      expect(out).toBe(text);
    });

    it('never cuts a UTF-8 character in two: the page ends before it and next_offset points at it', async () => {
      const text = 'a€€€€€';
      writeFileSync(at('euro.txt'), text);
      const first = await get('/files/read', { path: 'euro.txt', max_bytes: '5' });
      expect(first.body).toMatchObject({ content: 'a€', encoding: 'utf-8', length_bytes: 4, next_offset: 4, truncated: true });
      let out = first.body.content;
      let offset = first.body.next_offset;
      while (offset !== null) {
        const res = await get('/files/read', { path: 'euro.txt', offset: String(offset), max_bytes: '5' });
        expect(res.body.encoding).toBe('utf-8');
        out += res.body.content;
        offset = res.body.next_offset;
      }
      expect(out).toBe(text);
      // An offset inside a character is the caller's choice: that page comes back as exact bytes.
      const inside = await get('/files/read', { path: 'euro.txt', offset: '2' });
      expect(inside.body.encoding).toBe('base64');
      expect(Buffer.from(inside.body.content, 'base64')).toEqual(Buffer.from(text).subarray(2));
    });

    it('returns binary files as base64', async () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
      writeFileSync(at('x.png'), png);
      const res = await get('/files/read', { path: 'x.png' });
      expect(res.body).toMatchObject({ encoding: 'base64', size_bytes: 12, sha256: sha256(png) });
      expect(Buffer.from(res.body.content, 'base64')).toEqual(png);
    });

    it('reads the end of a 1 GiB file without hashing it', async () => {
      const file = at('big.bin');
      const fd = openSync(file, 'w');
      ftruncateSync(fd, 1024 ** 3);
      writeSync(fd, Buffer.from('THE END\n'), 0, 8, 1024 ** 3 - 8);
      closeSync(fd);
      const res = await get('/files/read', { path: 'big.bin', offset: String(1024 ** 3 - 262144), max_bytes: '262144' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        size_bytes: 1024 ** 3,
        length_bytes: 262144,
        truncated: false,
        next_offset: null,
        sha256: null,
        encoding: 'base64',
      });
      expect(res.body.sha256_note).toContain('8 MiB');
      const bytes = Buffer.from(res.body.content, 'base64');
      expect(bytes.length).toBe(262144);
      expect(bytes.subarray(-8).toString()).toBe('THE END\n');
    });

    it('refuses directories, offsets past the end and out-of-range numbers with 400', async () => {
      writeFileSync(at('small.txt'), 'abc');
      expectError(await get('/files/read', { path: '.' }), 400, 'VALIDATION_FAILED');
      const past = await get('/files/read', { path: 'small.txt', offset: '4' });
      expectError(past, 400, 'VALIDATION_FAILED');
      expect(past.body.message).toContain('3 bytes');
      expect((await get('/files/read', { path: 'small.txt', offset: '3' })).body).toMatchObject({ content: '', next_offset: null });
      expectError(await get('/files/read', { path: 'small.txt', max_bytes: String(4 * 1024 * 1024 + 1) }), 400, 'VALIDATION_FAILED');
      expectError(await get('/files/read', { path: 'small.txt', offset: '-1' }), 400, 'VALIDATION_FAILED');
      const bad = await get('/files/read', { path: 'small.txt', offset: 'ten' });
      expectError(bad, 400, 'VALIDATION_FAILED');
      expect(bad.body.message).toContain('offset');
      expectError(await get('/files/read', {}), 400, 'VALIDATION_FAILED');
    });

    it('answers 404 naming the file and the host for a missing file', async () => {
      const res = await get('/files/read', { path: 'no-such-file' });
      expectError(res, 404, 'FILE_NOT_FOUND');
      expect(res.body.message).toBe(
        `No file or directory ${at('no-such-file')} on host 'whisper'; use files_list on ${root} to see what is there.`,
      );
    });
  });

  describe('files_search', () => {
    beforeAll(() => {
      mkdirSync(at('models', 'blobs', 'deep'), { recursive: true });
      writeFileSync(at('models', 'gemma.gguf'), '');
      writeFileSync(at('models', 'blobs', 'llama.gguf'), '');
      writeFileSync(at('models', 'blobs', 'deep', 'phi.gguf'), '');
      writeFileSync(at('models', 'Modelfile'), '');
      writeFileSync(at('models', 'blobs', 'Modelfile.agent'), '');
      const outside = path.join(base, 'elsewhere');
      mkdirSync(outside);
      writeFileSync(path.join(outside, 'hidden.gguf'), '');
      symlinkSync(outside, at('models', 'linked'));
    });

    it('finds names by glob, shallowest first, without following symlinked directories', async () => {
      const res = await get('/files/search', { path: 'models', pattern: '*.gguf' });
      expect(res.status).toBe(200);
      expect(res.body.matches.map((m: any) => m.path)).toEqual([
        at('models', 'gemma.gguf'),
        at('models', 'blobs', 'llama.gguf'),
        at('models', 'blobs', 'deep', 'phi.gguf'),
      ]);
      expect(res.body).toMatchObject({ path: at('models'), pattern: '*.gguf', truncated: false, stopped_reason: null });
      expect(res.body.entries_visited).toBeGreaterThanOrEqual(8);
      const mf = await get('/files/search', { path: 'models', pattern: 'Modelfile*' });
      expect(mf.body.matches.map((m: any) => m.name)).toEqual(['Modelfile', 'Modelfile.agent']);
    });

    it('stops at max_results and says why', async () => {
      const res = await get('/files/search', { path: 'models', pattern: '*.gguf', max_results: '2' });
      expect(res.body.matches).toHaveLength(2);
      expect(res.body).toMatchObject({ truncated: true, stopped_reason: 'max_results' });
    });

    it('refuses malformed patterns and patterns with a slash', async () => {
      expectError(await get('/files/search', { pattern: '[abc' }), 400, 'VALIDATION_FAILED');
      expectError(await get('/files/search', { pattern: 'models/*.gguf' }), 400, 'VALIDATION_FAILED');
      expectError(await get('/files/search', { pattern: '' }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('files_write', () => {
    it('creates a file and says so', async () => {
      const res = await post('/files/write', { path: 'w/new.txt', content: 'hello\n', create_parents: true });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ path: at('w', 'new.txt'), size_bytes: 6, sha256: sha256('hello\n'), created: true });
      expect(readFileSync(at('w', 'new.txt'), 'utf8')).toBe('hello\n');
    });

    it('replaces a file atomically, keeping its mode and leaving no temp file', async () => {
      writeFileSync(at('keep-mode.sh'), 'old');
      chmodSync(at('keep-mode.sh'), 0o751);
      const res = await post('/files/write', { path: 'keep-mode.sh', content: 'new content' });
      expect(res.body).toMatchObject({ created: false, size_bytes: 11 });
      expect(readFileSync(at('keep-mode.sh'), 'utf8')).toBe('new content');
      expect(statSync(at('keep-mode.sh')).mode & 0o7777).toBe(0o751);
      expect(readdirSync(root).filter((n) => n.includes('ght-tmp'))).toEqual([]);
    });

    it('writes base64 content byte for byte and refuses invalid base64', async () => {
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      const res = await post('/files/write', { path: 'bin.dat', content: bytes.toString('base64'), encoding: 'base64' });
      expect(res.body.sha256).toBe(sha256(bytes));
      expect(readFileSync(at('bin.dat'))).toEqual(bytes);
      expectError(await post('/files/write', { path: 'bin2.dat', content: 'not base64!', encoding: 'base64' }), 400, 'VALIDATION_FAILED');
      expect(existsSync(at('bin2.dat'))).toBe(false);
    });

    it('checks expected_sha256: a stale hash or a vanished file is a 409 and nothing changes', async () => {
      writeFileSync(at('guarded.txt'), 'v1');
      const ok = await post('/files/write', { path: 'guarded.txt', content: 'v2', expected_sha256: sha256('v1').toUpperCase() });
      expect(ok.status).toBe(200);
      const stale = await post('/files/write', { path: 'guarded.txt', content: 'v3', expected_sha256: sha256('v1') });
      expectError(stale, 409, 'CONFLICT');
      expect(stale.body.message).toContain(sha256('v2'));
      expect(readFileSync(at('guarded.txt'), 'utf8')).toBe('v2');
      const gone = await post('/files/write', { path: 'never-existed.txt', content: 'x', expected_sha256: sha256('v1') });
      expectError(gone, 409, 'CONFLICT');
      expect(existsSync(at('never-existed.txt'))).toBe(false);
    });

    it('needs create_parents for missing directories', async () => {
      const res = await post('/files/write', { path: 'p/q/r.txt', content: 'x' });
      expectError(res, 404, 'FILE_NOT_FOUND');
      expect(res.body.message).toContain('create_parents');
      expect(existsSync(at('p'))).toBe(false);
      expect((await post('/files/write', { path: 'p/q/r.txt', content: 'x', create_parents: true })).status).toBe(200);
      expect(readFileSync(at('p', 'q', 'r.txt'), 'utf8')).toBe('x');
    });

    it('writes through a symlink inside the root to its target and keeps the link', async () => {
      writeFileSync(at('real.conf'), 'a=1\n');
      symlinkSync('real.conf', at('alias.conf'));
      const res = await post('/files/write', { path: 'alias.conf', content: 'a=2\n' });
      expect(res.body).toMatchObject({ path: at('real.conf'), created: false });
      expect(readlinkSync(at('alias.conf'))).toBe('real.conf');
      expect(readFileSync(at('real.conf'), 'utf8')).toBe('a=2\n');
    });

    it('refuses to write over a directory', async () => {
      mkdirSync(at('a-dir'));
      expectError(await post('/files/write', { path: 'a-dir', content: 'x' }), 400, 'VALIDATION_FAILED');
      expect(statSync(at('a-dir')).isDirectory()).toBe(true);
    });

    it('refuses content over 10 MiB with 413', async () => {
      const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
      const res = await post('/files/write', { path: 'big.txt', content: big.toString('base64'), encoding: 'base64' });
      expectError(res, 413, 'TOO_LARGE');
      expect(existsSync(at('big.txt'))).toBe(false);
    });

    it('needs the write scope and validates its body', async () => {
      expectError(await post('/files/write', { path: 'x.txt', content: 'x' }, READ), 403, 'FORBIDDEN');
      expectError(await post('/files/write', { path: 'x.txt' }), 400, 'VALIDATION_FAILED');
      expectError(await post('/files/write', { path: 'x.txt', content: 'x', encoding: 'latin1' }), 400, 'VALIDATION_FAILED');
      expectError(await post('/files/write', { path: 'x.txt', content: 'x', create_parents: 'yes' }), 400, 'VALIDATION_FAILED');
      expectError(await post('/files/write', { path: 'x.txt', content: 'x', expected_sha256: 'abc' }), 400, 'VALIDATION_FAILED');
      expect(existsSync(at('x.txt'))).toBe(false);
    });

    it('writes an audit record with the content replaced by its size and hash', async () => {
      await post('/files/write', { path: 'audited.txt', content: 'top secret content' });
      // The audit line is written right after the answer, so it may arrive a moment later.
      const find = () =>
        server
          .output()
          .split('\n')
          .find((l) => l.includes('"operation":"files_write"') && l.includes('audited.txt'));
      for (let i = 0; i < 100 && !find(); i++) await new Promise((r) => setTimeout(r, 20));
      const line = find();
      expect(line).toBeDefined();
      expect(line).not.toContain('top secret content');
      expect(line).toContain(sha256('top secret content'));
    });
  });

  describe('files_edit', () => {
    const modelfile = 'FROM gemma:2b\nPARAMETER temperature 0.8\nPARAMETER top_p 0.9\nSYSTEM """You are a requirements agent."""\n';

    beforeAll(() => {
      mkdirSync(at('agents'));
    });

    it('previews with dry_run, then applies, returning a unified diff', async () => {
      writeFileSync(at('agents', 'Modelfile'), modelfile);
      chmodSync(at('agents', 'Modelfile'), 0o640);
      const edits = [{ old_text: 'PARAMETER temperature 0.8', new_text: 'PARAMETER temperature 0.6' }];
      const dry = await post('/files/edit', { path: 'agents/Modelfile', edits, dry_run: true });
      expect(dry.status).toBe(200);
      expect(dry.body.applied).toBe(false);
      expect(dry.body.sha256).toBe(sha256(modelfile));
      expect(readFileSync(at('agents', 'Modelfile'), 'utf8')).toBe(modelfile);
      const expectedDiff = [
        `--- ${at('agents', 'Modelfile')}`,
        `+++ ${at('agents', 'Modelfile')}`,
        '@@ -1,4 +1,4 @@',
        ' FROM gemma:2b',
        '-PARAMETER temperature 0.8',
        '+PARAMETER temperature 0.6',
        ' PARAMETER top_p 0.9',
        ' SYSTEM """You are a requirements agent."""',
        '',
      ].join('\n');
      expect(dry.body.diff).toBe(expectedDiff);

      const res = await post('/files/edit', { path: 'agents/Modelfile', edits, expected_sha256: dry.body.sha256 });
      expect(res.status).toBe(200);
      const now = readFileSync(at('agents', 'Modelfile'), 'utf8');
      expect(now).toBe(modelfile.replace('0.8', '0.6'));
      expect(res.body).toEqual({ path: at('agents', 'Modelfile'), diff: expectedDiff, sha256: sha256(now), applied: true });
      expect(statSync(at('agents', 'Modelfile')).mode & 0o7777).toBe(0o640);
    });

    it('applies several edits in order, each to the result of the one before', async () => {
      writeFileSync(at('agents', 'order.txt'), 'one two three\n');
      const res = await post('/files/edit', {
        path: 'agents/order.txt',
        edits: [
          { old_text: 'one', new_text: 'uno' },
          { old_text: 'uno two', new_text: 'uno dos' },
        ],
      });
      expect(res.status).toBe(200);
      expect(readFileSync(at('agents', 'order.txt'), 'utf8')).toBe('uno dos three\n');
    });

    it('names the edit that was not found or not unique, and changes nothing', async () => {
      writeFileSync(at('agents', 'conf.txt'), 'a = 1\nb = 1\n');
      const missing = await post('/files/edit', {
        path: 'agents/conf.txt',
        edits: [
          { old_text: 'a = 1', new_text: 'a = 2' },
          { old_text: 'c = 1', new_text: 'c = 2' },
        ],
      });
      expectError(missing, 409, 'CONFLICT');
      expect(missing.body.message).toContain('edit 2 of 2 (old_text "c = 1") was not found');
      const twice = await post('/files/edit', { path: 'agents/conf.txt', edits: [{ old_text: '= 1', new_text: '= 2' }] });
      expectError(twice, 409, 'CONFLICT');
      expect(twice.body.message).toContain('edit 1 of 1 (old_text "= 1") was found 2 times');
      expect(readFileSync(at('agents', 'conf.txt'), 'utf8')).toBe('a = 1\nb = 1\n');
    });

    it('hints at CRLF line endings when a multi-line old_text does not match', async () => {
      writeFileSync(at('agents', 'win.txt'), 'a\r\nb\r\n');
      const res = await post('/files/edit', { path: 'agents/win.txt', edits: [{ old_text: 'a\nb', new_text: 'x' }] });
      expectError(res, 409, 'CONFLICT');
      expect(res.body.message).toContain('CRLF');
    });

    it('refuses binary files, stale hashes and empty old_text', async () => {
      writeFileSync(at('agents', 'blob.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
      expectError(
        await post('/files/edit', { path: 'agents/blob.bin', edits: [{ old_text: 'A', new_text: 'B' }] }),
        400,
        'VALIDATION_FAILED',
      );
      writeFileSync(at('agents', 'h.txt'), 'x');
      expectError(
        await post('/files/edit', { path: 'agents/h.txt', edits: [{ old_text: 'x', new_text: 'y' }], expected_sha256: sha256('other') }),
        409,
        'CONFLICT',
      );
      expect(readFileSync(at('agents', 'h.txt'), 'utf8')).toBe('x');
      expectError(await post('/files/edit', { path: 'agents/h.txt', edits: [{ old_text: '', new_text: 'y' }] }), 400, 'VALIDATION_FAILED');
      expectError(await post('/files/edit', { path: 'agents/h.txt', edits: [] }), 400, 'VALIDATION_FAILED');
      const extra = await post('/files/edit', { path: 'agents/h.txt', edits: [{ old_text: 'x', new_text: 'y', why: 'z' }] });
      expectError(extra, 400, 'VALIDATION_FAILED');
      expect(extra.body.message).toContain('edits.0.why: unknown field');
    });
  });

  describe('files_mkdir, files_move and files_delete', () => {
    it('creates directories like mkdir -p', async () => {
      const res = await post('/files/mkdir', { path: 'd1/d2/d3' });
      expect(res.body).toEqual({ path: at('d1', 'd2', 'd3'), created: true });
      expect(statSync(at('d1', 'd2', 'd3')).isDirectory()).toBe(true);
      expect((await post('/files/mkdir', { path: 'd1/d2' })).body).toEqual({ path: at('d1', 'd2'), created: false });
      writeFileSync(at('d1', 'file'), '');
      expectError(await post('/files/mkdir', { path: 'd1/file' }), 409, 'CONFLICT');
    });

    it('moves and renames, refusing to replace unless told', async () => {
      mkdirSync(at('mv'));
      writeFileSync(at('mv', 'a'), 'A');
      writeFileSync(at('mv', 'b'), 'B');
      const refused = await post('/files/move', { from: 'mv/a', to: 'mv/b' });
      expectError(refused, 409, 'CONFLICT');
      expect(refused.body.message).toContain('overwrite');
      expect([readFileSync(at('mv', 'a'), 'utf8'), readFileSync(at('mv', 'b'), 'utf8')]).toEqual(['A', 'B']);
      expect((await post('/files/move', { from: 'mv/a', to: 'mv/b', overwrite: true })).body).toEqual({
        from: at('mv', 'a'),
        to: at('mv', 'b'),
      });
      expect(existsSync(at('mv', 'a'))).toBe(false);
      expect(readFileSync(at('mv', 'b'), 'utf8')).toBe('A');
      expect((await post('/files/move', { from: 'mv/b', to: 'mv/c' })).status).toBe(200);
      expect(readFileSync(at('mv', 'c'), 'utf8')).toBe('A');
    });

    it('moves directories and symlinks, but never over or into a directory', async () => {
      mkdirSync(at('mv2', 'src', 'inner'), { recursive: true });
      mkdirSync(at('mv2', 'other'));
      writeFileSync(at('mv2', 'f'), '');
      symlinkSync('f', at('mv2', 'link'));
      expect((await post('/files/move', { from: 'mv2/src', to: 'mv2/dst' })).status).toBe(200);
      expect(statSync(at('mv2', 'dst', 'inner')).isDirectory()).toBe(true);
      expectError(await post('/files/move', { from: 'mv2/f', to: 'mv2/other', overwrite: true }), 409, 'CONFLICT');
      expectError(await post('/files/move', { from: 'mv2/dst', to: 'mv2/dst/inner/x' }), 400, 'VALIDATION_FAILED');
      expectError(await post('/files/move', { from: 'mv2/f', to: 'mv2/missing-dir/f' }), 404, 'FILE_NOT_FOUND');
      expectError(await post('/files/move', { from: 'mv2/nope', to: 'mv2/x' }), 404, 'FILE_NOT_FOUND');
      expect((await post('/files/move', { from: 'mv2/link', to: 'mv2/link2' })).status).toBe(200);
      expect(readlinkSync(at('mv2', 'link2'))).toBe('f');
    });

    it('deletes files, and directories only with recursive', async () => {
      mkdirSync(at('del', 'tree', 'deeper'), { recursive: true });
      writeFileSync(at('del', 'tree', 'a'), '');
      writeFileSync(at('del', 'tree', 'deeper', 'b'), '');
      writeFileSync(at('del', 'file'), '');
      expect((await post('/files/delete', { path: 'del/file' })).body).toEqual({
        path: at('del', 'file'),
        type: 'file',
        entries_deleted: 1,
      });
      expect(existsSync(at('del', 'file'))).toBe(false);
      const refused = await post('/files/delete', { path: 'del/tree' });
      expectError(refused, 409, 'CONFLICT');
      expect(refused.body.message).toContain('recursive');
      expect((await post('/files/delete', { path: 'del/tree', recursive: true })).body).toEqual({
        path: at('del', 'tree'),
        type: 'directory',
        entries_deleted: 4,
      });
      expect(existsSync(at('del', 'tree'))).toBe(false);
      expectError(await post('/files/delete', { path: 'del/tree' }), 404, 'FILE_NOT_FOUND');
    });

    it('removes symlinks inside a deleted tree without following them', async () => {
      const keep = path.join(base, 'keep-me');
      mkdirSync(keep);
      writeFileSync(path.join(keep, 'precious'), 'do not delete');
      mkdirSync(at('del2'));
      symlinkSync(keep, at('del2', 'to-outside'));
      symlinkSync(path.join(keep, 'precious'), at('del2', 'file-outside'));
      const res = await post('/files/delete', { path: 'del2', recursive: true });
      expect(res.body).toMatchObject({ type: 'directory', entries_deleted: 3 });
      expect(existsSync(at('del2'))).toBe(false);
      expect(readFileSync(path.join(keep, 'precious'), 'utf8')).toBe('do not delete');
    });

    it('deletes a symlink itself, not its target', async () => {
      writeFileSync(at('target.txt'), 't');
      symlinkSync('target.txt', at('the-link'));
      expect((await post('/files/delete', { path: 'the-link' })).body).toMatchObject({ type: 'symlink' });
      expect(lstatSync(at('target.txt')).isFile()).toBe(true);
    });

    it('refuses to delete the root itself', async () => {
      for (const p of ['.', '', root, 'd1/..']) {
        const res = await post('/files/delete', { path: p, recursive: true });
        expectError(res, 403, 'FORBIDDEN');
        expect(res.body.message).toContain('files root itself');
      }
      expect(existsSync(root)).toBe(true);
    });
  });
  describe('over MCP', () => {
    const json = (result: any) => JSON.parse(result.content[0].text);

    it('takes the same arguments and gives the same results and errors as REST', async () => {
      const mcp = await connectMcp(server.url, FULL);
      try {
        writeFileSync(at('mcp.txt'), 'alpha\nbeta\n');
        const read: any = await mcp.client.callTool({ name: 'files_read', arguments: { path: 'mcp.txt', offset: 6, max_bytes: 100 } });
        expect(read.isError).toBeFalsy();
        expect(json(read)).toMatchObject({ content: 'beta\n', offset: 6, next_offset: null, sha256: sha256('alpha\nbeta\n') });
        const edit: any = await mcp.client.callTool({
          name: 'files_edit',
          arguments: { path: 'mcp.txt', edits: [{ old_text: 'beta', new_text: 'gamma' }], expected_sha256: sha256('alpha\nbeta\n') },
        });
        expect(json(edit)).toMatchObject({ applied: true, sha256: sha256('alpha\ngamma\n') });
        expect(readFileSync(at('mcp.txt'), 'utf8')).toBe('alpha\ngamma\n');
        const escape: any = await mcp.client.callTool({ name: 'files_write', arguments: { path: '../outside.txt', content: 'x' } });
        expect(escape.isError).toBe(true);
        expect(json(escape)).toMatchObject({ statusCode: 403, code: 'PATH_OUTSIDE_ROOT' });
        expect(existsSync(path.join(base, 'outside.txt'))).toBe(false);
      } finally {
        await mcp.close();
      }
    });
  });
});

describe.each(['ssh', 'local'] as const)('the default files root over the %s transport', (transport) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ ...hostEnv(transport), API_KEY: FULL });
  });
  afterAll(() => server?.stop());

  it("is the account's home directory", async () => {
    const res = await call(server.url, 'GET', '/files/stat', { key: FULL, query: { path: '.' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ path: os.homedir(), type: 'directory' });
    const tilde = await call(server.url, 'GET', '/files/stat', { key: FULL, query: { path: '~' } });
    expect(tilde.body.path).toBe(os.homedir());
  });
});
