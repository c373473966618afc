/**
 * The files jail. Every path a caller gives is resolved on the host itself (SFTP realpath or
 * fs.realpath, through FileSystem.resolve) and the result is compared by whole path components against
 * the resolved root, so `/home/ccpm-evil` is not inside `/home/ccpm`, and `..` or a symlink anywhere in
 * the path cannot lead out. The operations then act on the resolved path, never on the caller's text.
 *
 * Three ways to ask, one per kind of operation:
 * - existing(): the path must exist; symlinks are followed (read, list, stat, search, edit).
 * - target(): the path may not exist yet (write, mkdir). When it does not, the deepest existing ancestor is
 *   resolved and checked, and the first missing component must not be a symlink (a dangling link or a loop
 *   cannot be proven to stay inside, so it is refused rather than followed).
 * - entry(): the entry itself, not what a symlink at the final component points to (delete, move). Its
 *   parent is resolved and checked; a symlink at the final component must still resolve inside the root.
 *
 * Credentials and login files (protected-paths.ts) are refused with 403 PATH_PROTECTED at every one of
 * these steps: the caller's path made absolute (so a missing key file is no 404 oracle), what it resolves
 * to (so a symlink to .ssh is .ssh), and for entry() the entry itself and what a link there leads to.
 *
 * Refusals are 403 PATH_OUTSIDE_ROOT whether or not the outside path exists, so the answer is no oracle
 * for what is outside. A check that cannot be completed refuses; it never falls back to a looser one.
 *
 * What a check cannot close on its own is the race between check and use: SFTP cannot open a name
 * relative to a directory handle, so someone writing inside the root at the same moment could swap a
 * checked directory for a symlink before the operation uses the path. The adapters narrow it (new files
 * are created with O_EXCL, which never follows a link; a replace is a rename, which replaces a link
 * rather than following it); only the host can close it, by confining the account (a chrooted,
 * SFTP-only account for the file tools).
 *
 * Kept as one file, over 300 lines: these are all the rules that decide what a path may reach, and
 * they are reviewed together; splitting them would hide one from another.
 */
import path from 'node:path';
import { AppError, badRequest, forbidden, notFound } from '../../common/errors.js';
import { isFsError, type FileStats, type FileSystem } from '../../infra/files/file-system.js';
import { ProtectedPaths } from './protected-paths.js';
import { clip } from '../../common/text.js';

const posix = path.posix;

/** Linux PATH_MAX and NAME_MAX, in bytes. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

export interface Resolved {
  /** Canonical absolute path on the host. */
  path: string;
  stats: FileStats;
}

export interface Target {
  /** Where to write: the resolved path when it exists, else the resolved ancestor plus the missing names. */
  path: string;
  /** Stats of what is there (a symlink followed), or null when nothing is. */
  existing: FileStats | null;
  /** Names between the deepest existing ancestor and the target, the target's own name last. */
  missing: string[];
  /** The deepest existing ancestor, resolved (the target's parent when only the target is missing). */
  ancestor: string;
}

export interface Entry {
  /** Resolved parent plus the entry's own name: a symlink here is the link, not its target. */
  path: string;
  /** lstat of the entry, or null when it does not exist (only with allowMissing). */
  stats: FileStats | null;
}

/** Codes with which resolving fails because something along the path is missing, unreadable or loops. */
const UNRESOLVED = ['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES'] as const;

/** True when `p` is `root` or below it, compared by whole components. */
export function isInside(root: string, p: string): boolean {
  if (p === root) return true;
  const prefix = root.endsWith('/') ? root : root + '/';
  return p.startsWith(prefix);
}

function quote(p: string): string {
  return `'${clip(p, 200)}'`;
}

export class PathJail {
  private rootPromise?: Promise<string>;

  constructor(
    private readonly fs: FileSystem,
    /** files_root from the host config; undefined means the account's home. */
    private readonly configuredRoot: string | undefined,
    private readonly host: string,
    readonly protectedPaths = new ProtectedPaths(),
  ) {}

  /** The resolved root, resolved on first use and then kept (a failure is not kept). */
  root(): Promise<string> {
    this.rootPromise ??= this.resolveRoot().catch((err) => {
      this.rootPromise = undefined;
      throw err;
    });
    return this.rootPromise;
  }

  private async resolveRoot(): Promise<string> {
    const configured = this.configuredRoot ?? (await this.fs.home());
    let r: Resolved;
    try {
      r = await this.fs.resolve(configured);
    } catch (err) {
      if (!isFsError(err)) throw err;
      throw new AppError(
        503,
        'HOST_ERROR',
        `The files root ${configured} of host '${this.host}' cannot be used (${err.code === 'ENOENT' ? 'it does not exist' : err.code}); create it there or set files_root to an existing directory.`,
      );
    }
    if (r.stats.type !== 'directory') {
      throw new AppError(
        503,
        'HOST_ERROR',
        `The files root ${configured} of host '${this.host}' is not a directory; set files_root to a directory.`,
      );
    }
    return r.path;
  }

  /**
   * The caller's path made absolute without touching the host: relative to the root, `~` as the account's
   * home, `.` and `..` applied lexically. Only the check after resolving decides what is inside.
   */
  async absolute(input: string): Promise<string> {
    // A NUL ends a C string: "a\0/../../etc" would be one path to us and another to the host.
    if (input.includes('\0')) throw badRequest(`Invalid input: path must not contain NUL bytes.`);
    const root = await this.root();
    let p = input;
    if (p === '~' || p.startsWith('~/')) p = (await this.fs.home()) + p.slice(1);
    const abs = posix.resolve(root, p);
    if (Buffer.byteLength(abs) > PATH_MAX) {
      throw badRequest(
        `Invalid input: path ${quote(input)} is longer than the host's limit of ${PATH_MAX} bytes once made absolute; use a shorter path.`,
      );
    }
    for (const name of abs.split('/')) {
      if (Buffer.byteLength(name) > NAME_MAX) {
        throw badRequest(
          `Invalid input: path ${quote(input)} has a name longer than ${NAME_MAX} bytes (${quote(name.slice(0, 40))}); file names on the host cannot be that long.`,
        );
      }
    }
    return abs;
  }

  /** An existing path, symlinks followed; 404 when it does not exist, 403 when it leads outside. */
  async existing(input: string): Promise<Resolved> {
    const root = await this.root();
    const abs = await this.absolute(input);
    this.assertNotProtectedLexically(root, input, abs);
    const r = await this.resolveOrNotFound(root, input, abs, (ancestor, missing) =>
      ancestor.stats.type === 'directory'
        ? `No file or directory ${posix.join(ancestor.path, ...missing)} on host '${this.host}'; use files_list on ${ancestor.path} to see what is there.`
        : `No file or directory ${quote(input)} on host '${this.host}': ${ancestor.path} is a file, not a directory; use files_list to see what is there.`,
    );
    this.assertInside(root, input, r.path);
    this.assertNotProtected(input, r.path);
    return r;
  }

  /** A path to create or replace (write, mkdir); see the file comment. */
  async target(input: string): Promise<Target> {
    const root = await this.root();
    const abs = await this.absolute(input);
    this.assertNotProtectedLexically(root, input, abs);
    try {
      const r = await this.fs.resolve(abs);
      this.assertInside(root, input, r.path);
      this.assertNotProtected(input, r.path);
      return { path: r.path, existing: r.stats, missing: [], ancestor: posix.dirname(r.path) };
    } catch (err) {
      if (!isFsError(err, ...UNRESOLVED)) throw err;
    }
    const { ancestor, missing } = await this.locateMissing(root, input, abs);
    if (ancestor.stats.type !== 'directory') {
      throw badRequest(
        `Invalid input: ${quote(input)} cannot be created on host '${this.host}' because ${ancestor.path} is a file, not a directory.`,
      );
    }
    const p = posix.join(ancestor.path, ...missing);
    this.assertNotProtected(input, p);
    return { path: p, existing: null, missing, ancestor: ancestor.path };
  }

  /**
   * The entry itself (delete, move): the parent resolved and checked, the final name not followed. The
   * root itself is refused: `what` says which operation, for the message.
   */
  async entry(input: string, what: string, allowMissing = false): Promise<Entry> {
    const abs = await this.absolute(input);
    const root = await this.root();
    if (abs === root) throw this.rootItself(what);
    // A move or delete of ".config" would take ".config/gh" out of protection with it.
    this.assertNotProtectedLexically(root, input, abs, true);
    const parentAbs = posix.dirname(abs);
    const parent = await this.resolveOrNotFound(
      root,
      input,
      parentAbs,
      (ancestor, missing) =>
        `No directory ${posix.join(ancestor.path, ...missing)} on host '${this.host}'${allowMissing ? '; create it first with files_mkdir' : ''}; use files_list on ${ancestor.path} to see what is there.`,
    );
    this.assertInside(root, input, parent.path);
    if (parent.stats.type !== 'directory') {
      throw notFound(
        'FILE_NOT_FOUND',
        `No file or directory ${quote(input)} on host '${this.host}': ${parent.path} is a file, not a directory.`,
      );
    }
    const p = posix.join(parent.path, posix.basename(abs));
    if (p === root) throw this.rootItself(what);
    this.assertNotProtected(input, p, true);
    let stats: FileStats;
    try {
      stats = await this.fs.lstat(p);
    } catch (err) {
      if (!isFsError(err, 'ENOENT')) throw err;
      if (allowMissing) return { path: p, stats: null };
      throw notFound(
        'FILE_NOT_FOUND',
        `No file or directory ${p} on host '${this.host}'; use files_list on ${parent.path} to see what is there.`,
      );
    }
    if (stats.type === 'symlink') {
      let target: Resolved;
      try {
        target = await this.fs.resolve(p);
      } catch (err) {
        if (!isFsError(err, ...UNRESOLVED)) throw err;
        throw this.unresolvableLink(input, p);
      }
      this.assertInside(root, input, target.path);
      this.assertNotProtected(input, target.path);
    }
    return { path: p, stats };
  }

  /**
   * `abs` resolved, or 404 FILE_NOT_FOUND with the message `describe` makes from the deepest ancestor
   * that exists (checked to be inside) and the names below it.
   */
  private async resolveOrNotFound(
    root: string,
    input: string,
    abs: string,
    describe: (ancestor: Resolved, missing: string[]) => string,
  ): Promise<Resolved> {
    try {
      return await this.fs.resolve(abs);
    } catch (err) {
      if (!isFsError(err, ...UNRESOLVED)) throw err;
      const { ancestor, missing } = await this.locateMissing(root, input, abs);
      throw notFound('FILE_NOT_FOUND', describe(ancestor, missing));
    }
  }

  /** 403 unless `resolved` is inside the root. */
  private assertInside(root: string, input: string, resolved: string): void {
    if (!isInside(root, resolved)) {
      // The resolved outside path is not named: where a link points outside is none of the caller's business.
      throw forbidden(
        'PATH_OUTSIDE_ROOT',
        `The path ${quote(input)} is outside the files root ${root} on host '${this.host}' (after resolving '..' and symbolic links); the file tools only reach paths inside ${root}.`,
      );
    }
  }

  /**
   * The check on the caller's path as written (`..` applied), before anything is looked up: a missing
   * .ssh/id_rsa is refused like an existing one. A path outside the root is left to the resolution,
   * which refuses it as outside.
   */
  private assertNotProtectedLexically(root: string, input: string, abs: string, orHolds = false): void {
    if (isInside(root, abs)) this.assertNotProtected(input, abs, orHolds);
  }

  /** 403 PATH_PROTECTED when `p` is a credential or login file (or, with `orHolds`, holds one). */
  private assertNotProtected(input: string, p: string, orHolds = false): void {
    const m = this.protectedPaths.match(p, orHolds);
    if (!m) return;
    throw forbidden(
      'PATH_PROTECTED',
      m.holds
        ? `The path ${quote(input)} on host '${this.host}' holds '${m.rule}', a protected credential or login file, and moving or deleting it would take that out of protection; act on the entries inside it instead. The list is the host's files_protected_paths setting (YAML config, or FILES_PROTECTED_PATHS).`
        : `The path ${quote(input)} on host '${this.host}' is protected as a credential or login file ('${m.rule}'): the file tools never read or change these, because they hold keys and passwords or run at login, so reading them would leak access and writing them would give a shell. Use another path; to allow it, the operator removes '${m.rule}' from the host's files_protected_paths setting (YAML config, or FILES_PROTECTED_PATHS).`,
    );
  }

  /**
   * For a path that does not resolve: the deepest ancestor that does (checked to be inside) and the names
   * below it. The first of those names must be truly absent: if it is a symlink, the link is dangling or
   * loops (or points to a missing place outside), and the path is refused.
   */
  private async locateMissing(root: string, input: string, abs: string): Promise<{ ancestor: Resolved; missing: string[] }> {
    const missing: string[] = [];
    let cur = abs;
    let ancestor: Resolved | undefined;
    let firstError: string | undefined;
    while (!ancestor) {
      try {
        ancestor = await this.fs.resolve(cur);
      } catch (err) {
        if (!isFsError(err, ...UNRESOLVED) || cur === '/') throw err;
        firstError ??= err.code;
        missing.unshift(posix.basename(cur));
        cur = posix.dirname(cur);
      }
    }
    this.assertInside(root, input, ancestor.path);
    if (ancestor.stats.type !== 'directory') return { ancestor, missing };
    const first = posix.join(ancestor.path, missing[0]);
    let stats: FileStats | undefined;
    try {
      stats = await this.fs.lstat(first);
    } catch (err) {
      if (isFsError(err, 'ENOENT')) return { ancestor, missing };
      if (isFsError(err, 'EACCES')) throw this.permissionDenied(first);
      throw err;
    }
    if (stats.type === 'symlink') throw this.unresolvableLink(input, first);
    if (firstError === 'EACCES') throw this.permissionDenied(first);
    // It exists and is no link, yet the path did not resolve: it changed under us. Refuse, do not guess.
    throw forbidden('PATH_OUTSIDE_ROOT', `The path ${quote(input)} on host '${this.host}' changed while it was being checked; try again.`);
  }

  private unresolvableLink(input: string, link: string): AppError {
    return forbidden(
      'PATH_OUTSIDE_ROOT',
      `The path ${quote(input)} on host '${this.host}' goes through the symbolic link ${link}, whose target does not exist or loops, so it cannot be checked against the files root and is not followed (nor deleted or moved); use a path without it, or repair or remove the link on the host (e.g. with shell_exec).`,
    );
  }

  private permissionDenied(p: string): AppError {
    return forbidden(
      'FORBIDDEN',
      `The account on host '${this.host}' has no permission to look inside ${posix.dirname(p)}; check its permissions on the host.`,
    );
  }

  private rootItself(what: string): AppError {
    return forbidden('FORBIDDEN', `${what} refuses to act on the files root itself; name an entry inside it instead.`);
  }
}
