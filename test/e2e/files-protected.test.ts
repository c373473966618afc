/**
 * Credentials and login files out of reach of the file tools, through the HTTP API with every files
 * operation, over both transports. The files root stands for the account's home (the default root), with
 * the files people keep there; each attempt must be refused with 403 PATH_PROTECTED, and after each one the
 * whole root is compared byte for byte with how it was: nothing protected read into an answer, written,
 * created, moved or deleted.
 *
 * Layout (root = <base>/home):
 *   .ssh/{authorized_keys,id_ed25519}  .bashrc  .profile  .netrc  .aws/credentials
 *   .config/gh/hosts.yml  .config/systemd/user/backup.service  .config/other/app.conf (not protected)
 *   .docker/config.json  .ollama/id_ed25519  project/.git-credentials  users/other/.ssh/authorized_keys
 *   keys -> .ssh   key -> .ssh/id_ed25519   rc -> .bashrc   abs-keys -> <root>/.ssh   cfg -> .config
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sharedSshd } from '../support/context.js';
import { call, sshEnv, startServer, type RunningServer } from '../support/server.js';
import { snapshot } from '../support/tree-snapshot.js';

const KEY = 'full-key-0123456789abcdef';
const SECRET = 'PRIVATE-KEY-MATERIAL';

function makeHome(root: string): void {
  const files: Record<string, string> = {
    '.ssh/authorized_keys': `ssh-ed25519 AAAA${SECRET} admin\n`,
    '.ssh/id_ed25519': `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n`,
    '.bashrc': `export TOKEN=${SECRET}\n`,
    '.profile': `. ~/.bashrc # ${SECRET}\n`,
    '.netrc': `machine example.org login me password ${SECRET}\n`,
    '.aws/credentials': `[default]\naws_secret_access_key = ${SECRET}\n`,
    '.config/gh/hosts.yml': `github.com:\n  oauth_token: ${SECRET}\n`,
    '.config/systemd/user/backup.service': `[Service]\nExecStart=/bin/true ${SECRET}\n`,
    '.config/other/app.conf': 'colour = blue\n',
    '.docker/config.json': `{"auths":{"x":{"auth":"${SECRET}"}}}\n`,
    '.ollama/id_ed25519': `${SECRET}\n`,
    'project/.git-credentials': `https://me:${SECRET}@example.org\n`,
    'project/README.md': 'a project\n',
    'users/other/.ssh/authorized_keys': `ssh-ed25519 AAAA${SECRET} other\n`,
    'notes.txt': 'notes\n',
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  symlinkSync('.ssh', path.join(root, 'keys'));
  symlinkSync('.ssh/id_ed25519', path.join(root, 'key'));
  symlinkSync('.bashrc', path.join(root, 'rc'));
  symlinkSync(path.join(root, '.ssh'), path.join(root, 'abs-keys'));
  symlinkSync('.config', path.join(root, 'cfg'));
}

describe.each(['ssh', 'local'] as const)('credentials and login files over the %s transport', (transport) => {
  let server: RunningServer;
  let base: string;
  let root: string;
  let before: Record<string, string>;

  const get = (p: string, query: Record<string, string>) => call(server.url, 'GET', p, { key: KEY, query });
  const post = (p: string, body: unknown) => call(server.url, 'POST', p, { key: KEY, body });

  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), `ght-protected-${transport}-`));
    root = path.join(base, 'home');
    makeHome(root);
    const hostEnv = transport === 'ssh' ? sshEnv(sharedSshd()) : { HOST_NAME: 'whisper' };
    server = await startServer({ ...hostEnv, FILES_ROOT: root, API_KEY: KEY });
    before = snapshot(root);
  });

  afterEach(() => {
    // Whatever the answer was, nothing in the home changed.
    expect(snapshot(root)).toEqual(before);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  function expectProtected(res: { status: number; body: any; text: string }) {
    expect({ status: res.status, code: res.body?.code, error: res.body?.error }).toEqual({
      status: 403,
      code: 'PATH_PROTECTED',
      error: 'Forbidden',
    });
    expect(res.body.message).toContain('files_protected_paths');
    expect(res.text).not.toContain(SECRET);
  }

  /** Protected files, by their own names and through every kind of path that reaches them. */
  const FILES = [
    '.ssh/id_ed25519',
    '.ssh/authorized_keys',
    '.bashrc',
    '.profile',
    '.netrc',
    '.aws/credentials',
    '.config/gh/hosts.yml',
    '.config/systemd/user/backup.service',
    '.docker/config.json',
    '.ollama/id_ed25519',
    'project/.git-credentials',
    'users/other/.ssh/authorized_keys',
    // Variants: `..`, `~`, absolute, symlinks (file, directory, absolute, parent), case.
    'project/../.ssh/id_ed25519',
    './.ssh//id_ed25519',
    '%R/../home/.bashrc',
    '%R/.netrc',
    'key',
    'keys/id_ed25519',
    'abs-keys/authorized_keys',
    'rc',
    'cfg/gh/hosts.yml',
    '.SSH/id_ed25519',
  ];
  const DIRS = ['.ssh', 'keys', 'abs-keys', '.config/gh', 'cfg/gh', '.config/systemd/user', '.aws', 'users/other/.ssh', '.Ssh'];
  /** New files that would run at login or grant access. */
  const NEW_FILES = [
    '.ssh/authorized_keys2',
    'keys/authorized_keys2',
    '.config/systemd/user/evil.service',
    '.config/autostart/evil.desktop',
    '.config/fish/config.fish',
    '.zshrc',
    '.bash_login',
    '.pam_environment',
    'users/other/.bashrc',
    'cfg/systemd/user/evil.service',
  ];

  const p = (s: string) => s.replace('%R', root);

  describe('reads', () => {
    it.each(FILES)('files_read %s', async (f) => expectProtected(await get('/files/read', { path: p(f) })));
    it.each(FILES)('files_stat %s', async (f) => expectProtected(await get('/files/stat', { path: p(f) })));
    it.each(DIRS)('files_list %s', async (d) => expectProtected(await get('/files/list', { path: p(d) })));
    it.each(DIRS)('files_search under %s', async (d) => expectProtected(await get('/files/search', { path: p(d), pattern: '*' })));

    it('files_read of a protected file that does not exist is 403, not a 404 that says what is there', async () => {
      expectProtected(await get('/files/read', { path: '.ssh/id_rsa' }));
      expectProtected(await get('/files/stat', { path: '.gnupg' }));
    });

    it('files_list shows a protected entry in its directory, so a model does not try to create it', async () => {
      const res = await get('/files/list', { path: '.' });
      expect(res.status).toBe(200);
      const names = res.body.entries.map((e: any) => e.name);
      expect(names).toEqual(expect.arrayContaining(['.ssh', '.bashrc', '.netrc', 'keys']));
      expect(res.text).not.toContain(SECRET);
      // Inside a directory that holds protected names, the rest stays usable.
      const config = await get('/files/list', { path: '.config' });
      expect(config.body.entries.map((e: any) => e.name)).toEqual(['gh', 'other', 'systemd']);
      expect((await get('/files/read', { path: '.config/other/app.conf' })).body.content).toBe('colour = blue\n');
      expect((await get('/files/read', { path: 'project/README.md' })).body.content).toBe('a project\n');
    });

    it('files_search never shows what is inside a protected directory', async () => {
      const all = await get('/files/search', { pattern: '*', max_results: '1000' });
      expect(all.status).toBe(200);
      const paths: string[] = all.body.matches.map((m: any) => m.path);
      expect(paths).toContain(path.join(root, '.ssh'));
      expect(paths).toContain(path.join(root, 'notes.txt'));
      for (const inside of ['.ssh/', '.config/gh/', '.config/systemd/user/', '.aws/', 'users/other/.ssh/'])
        expect(paths.filter((m) => m.startsWith(path.join(root, inside)))).toEqual([]);
      const keys = await get('/files/search', { pattern: 'id_*' });
      expect(keys.body.matches.map((m: any) => m.path)).not.toContain(path.join(root, '.ssh/id_ed25519'));
      const authorized = await get('/files/search', { pattern: 'authorized_keys' });
      expect(authorized.body.matches).toEqual([]);
    });
  });

  describe('writes', () => {
    it.each([...FILES, ...NEW_FILES])('files_write %s', async (f) => {
      expectProtected(await post('/files/write', { path: p(f), content: 'ssh-ed25519 AAAA attacker\n', create_parents: true }));
    });

    it.each(FILES)('files_edit %s', async (f) => {
      expectProtected(await post('/files/edit', { path: p(f), edits: [{ old_text: SECRET, new_text: 'pwned' }] }));
      expectProtected(await post('/files/edit', { path: p(f), edits: [{ old_text: SECRET, new_text: 'x' }], dry_run: true }));
    });

    it.each(['.ssh/sub', 'keys/sub', '.config/systemd/user', '.config/autostart', '.gnupg', 'cfg/gh/sub', 'users/other/.ssh/x'])(
      'files_mkdir %s',
      async (d) => expectProtected(await post('/files/mkdir', { path: p(d) })),
    );
  });

  describe('moves and deletes', () => {
    it.each([...FILES, ...DIRS])('files_move from %s', async (f) => {
      expectProtected(await post('/files/move', { from: p(f), to: 'stolen' }));
    });

    it.each(['.ssh/authorized_keys', '.bashrc', 'keys/authorized_keys', 'rc', '.ssh/new', '.zshrc', '.config/autostart'])(
      'files_move to %s',
      async (f) => expectProtected(await post('/files/move', { from: 'notes.txt', to: p(f), overwrite: true })),
    );

    it.each(['.config', '.docker', '.ollama'])('files_move of %s, which holds protected entries', async (d) => {
      expectProtected(await post('/files/move', { from: p(d), to: 'elsewhere' }));
    });

    it.each([...FILES, ...DIRS, '.config', '.docker'])('files_delete %s', async (f) => {
      expectProtected(await post('/files/delete', { path: p(f), recursive: true }));
    });

    it.each(['users', 'project', 'users/other'])(
      'files_delete of %s, a directory holding a protected entry, deletes nothing',
      async (d) => {
        const res = await post('/files/delete', { path: d, recursive: true });
        expectProtected(res);
        expect(res.body.message).toContain('nothing was deleted');
      },
    );
  });
});

describe('files_protected_paths is configurable per host', () => {
  let base: string;
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(base, { recursive: true, force: true });
  });
  beforeAll(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'ght-protected-config-'));
    makeHome(path.join(base, 'home'));
    mkdirSync(path.join(base, 'home', 'secrets'));
    writeFileSync(path.join(base, 'home', 'secrets', 'token'), 'token\n');
  });

  async function serve(list: string[] | undefined, env: Record<string, string> = {}) {
    const config = path.join(base, `config-${servers.length}.yaml`);
    const host = { transport: 'local', files_root: path.join(base, 'home'), ...(list ? { files_protected_paths: list } : {}) };
    writeFileSync(config, JSON.stringify({ hosts: { box: host } }));
    const s = await startServer({ CONFIG_FILE: config, API_KEY: KEY, ...env });
    servers.push(s);
    return (q: string) => call(s.url, 'GET', '/files/read', { key: KEY, query: { path: q } });
  }

  it('extends the built-in list with "default" plus more names', async () => {
    const read = await serve(['default', 'secrets']);
    expect((await read('secrets/token')).body.code).toBe('PATH_PROTECTED');
    expect((await read('.ssh/id_ed25519')).body.code).toBe('PATH_PROTECTED');
    expect((await read('notes.txt')).status).toBe(200);
  });

  it('replaces it with a list without "default", and an empty list turns the protection off', async () => {
    const only = await serve(['.netrc']);
    expect((await only('.netrc')).body.code).toBe('PATH_PROTECTED');
    expect((await only('.ssh/id_ed25519')).status).toBe(200);
    const none = await serve([]);
    expect((await none('.bashrc')).status).toBe(200);
  });

  it('FILES_PROTECTED_PATHS sets it for the single host, overriding the file', async () => {
    const read = await serve(['default'], { FILES_PROTECTED_PATHS: 'default,secrets/token' });
    expect((await read('secrets/token')).body.code).toBe('PATH_PROTECTED');
    expect((await read('.bashrc')).body.code).toBe('PATH_PROTECTED');
  });
});
