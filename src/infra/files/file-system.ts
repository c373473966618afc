/**
 * The file-system contract the files module works through. Two adapters fulfil it: LocalFileSystem
 * (node:fs, for the local transport) and SftpFileSystem (ssh2's SFTP session on the host's pooled SSH
 * connection). All file I/O of the product lives behind this interface; the jail and the services only
 * ever see absolute POSIX paths, FileStats and FsErrors.
 *
 * The adapters do not enforce the jail: they do exactly what they are told. They do guarantee the few
 * primitives the jail and the atomic write rely on: `resolve` only succeeds for an entry that exists,
 * `createFile` never follows a symlink at its path, and `rename(..., false)` never replaces an entry.
 */

export type FileType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileStats {
  type: FileType;
  size: number;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
  /** Modification time in ms since the epoch (SFTP v3 has whole seconds only). */
  mtimeMs: number;
}

export interface DirEntry {
  name: string;
  /** The entry itself (lstat): a symlink is reported as a symlink, never followed. */
  stats: FileStats;
}

export interface DirListing {
  /** In the order the host returned them; never "." or "..". */
  entries: DirEntry[];
  /** More entries exist than the limit asked for. */
  truncated: boolean;
}

export interface ReadHandle {
  /** Stats of the opened file (fstat on the handle, so they describe what is actually read). */
  readonly stats: FileStats;
  /** Reads up to `length` bytes at `position`; shorter only at the end of the file. */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * The error codes the files module acts on. SFTP v3 reports only a handful of status codes, so the SFTP
 * adapter refines its generic "Failure" where the context makes the cause certain (e.g. EEXIST after a
 * failed exclusive create when the path now exists) and reports EIO otherwise.
 */
export type FsErrorCode =
  | 'ENOENT'
  | 'EACCES'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'ELOOP'
  | 'ENAMETOOLONG'
  | 'EINVAL'
  | 'EXDEV'
  | 'ENOSPC'
  | 'EROFS'
  | 'ENOTSUP'
  | 'EIO';

export class FsError extends Error {
  constructor(
    readonly code: FsErrorCode,
    /** The operation that failed, for messages: "open", "rename", ... */
    readonly op: string,
    readonly path: string,
    /** What the host said, when it said more than the code (SFTP status text, errno name). */
    readonly detail?: string,
  ) {
    super(`${op} ${path}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'FsError';
  }
}

export const isFsError = (err: unknown, ...codes: FsErrorCode[]): err is FsError =>
  err instanceof FsError && (codes.length === 0 || codes.includes(err.code));

export interface FileSystem {
  /** The account's home directory, the default files root (SFTP: realpath('.'); local: os.homedir()). */
  home(): Promise<string>;
  /**
   * The canonical path of an existing entry, every symlink resolved, and the stats of what it leads to.
   * Rejects with ENOENT when the path, a parent or a link target is missing (OpenSSH also reports a
   * symlink loop this way; the local adapter reports ELOOP), ENOTDIR when a parent is a file.
   */
  resolve(path: string): Promise<{ path: string; stats: FileStats }>;
  /** Stats of the entry itself, without following a symlink at the final component. */
  lstat(path: string): Promise<FileStats>;
  /** Up to `limit` entries of a directory (lstat stats); reads no more than it needs to. */
  readDir(path: string, limit: number): Promise<DirListing>;
  openRead(path: string): Promise<ReadHandle>;
  /**
   * Creates a new file exclusively (EEXIST when anything, a symlink included, is at `path`), writes
   * `data`, sets `mode` exactly when given (not filtered by the umask), flushes it to disk and closes it.
   * A partly written file is removed again on failure.
   */
  createFile(path: string, data: Buffer, mode?: number): Promise<void>;
  /**
   * Renames an entry (a symlink is moved as the link itself). With `overwrite` an existing file at `to`
   * is replaced atomically (POSIX rename); without it an existing `to` fails with EEXIST.
   */
  rename(from: string, to: string, overwrite: boolean): Promise<void>;
  /** Creates one directory level; EEXIST when the path exists (as anything). */
  mkdir(path: string): Promise<void>;
  /** Removes a file or a symlink (never what it points to). */
  unlink(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
}

const S_IFMT = 0o170000;

/** FileStats from a full st_mode (type bits + permissions), as both adapters receive it. */
export function fileStatsOf(stMode: number, size: number, mtimeMs: number): FileStats {
  return { type: fileTypeOfMode(stMode), size, mode: stMode & 0o7777, mtimeMs };
}

/** The FileType of a full st_mode (type bits + permissions). */
function fileTypeOfMode(mode: number): FileType {
  switch (mode & S_IFMT) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}
