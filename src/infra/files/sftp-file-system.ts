/**
 * FileSystem over SFTP, using ssh2's own SFTPWrapper on the host's pooled SSH connection (one cached
 * session, re-opened by the transport after a reconnect).
 *
 * SFTP v3 (all OpenSSH speaks) has only a few status codes: ENOENT, ENOTDIR and ELOOP all arrive as
 * NO_SUCH_FILE; EEXIST, ENOTEMPTY, EISDIR as a bare FAILURE. Where the files module needs the real cause
 * the adapter looks (an lstat after a failed exclusive create tells EEXIST apart), otherwise it says EIO.
 */
import type { SFTPWrapper, Stats } from 'ssh2';
import { AppError } from '../../common/errors.js';
import {
  FsError,
  fileTypeOfMode,
  type DirEntry,
  type DirListing,
  type FileStats,
  type FileSystem,
  type FsErrorCode,
  type ReadHandle,
} from './file-system.js';

export interface SftpFileSystemOptions {
  /** Returns the transport's cached SFTP session (connecting first if needed). */
  sftp: () => Promise<SFTPWrapper>;
  /** "user@host:port", for error messages. */
  address: string;
  /** Bound on every single SFTP request. */
  opTimeoutMs?: number;
  /**
   * Called when a request is sent; the function it returns when the answer came (or the request gave
   * up). The ssh transport's awaitReply: a wedged connection is then dropped within seconds and the
   * request fails at once instead of waiting out opTimeoutMs.
   */
  awaitReply?: () => () => void;
}

/** SSH_FX_* status codes (draft-ietf-secsh-filexfer-02). */
const FX = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

/** Reads are issued in chunks of this size, several in flight at once. */
const READ_CHUNK = 64 * 1024;
const WRITE_CHUNK = 64 * 1024;
const IN_FLIGHT = 8;

function toStats(s: Stats): FileStats {
  return { type: fileTypeOfMode(s.mode), size: s.size, mode: s.mode & 0o7777, mtimeMs: s.mtime * 1000 };
}

export class SftpFileSystem implements FileSystem {
  private readonly opTimeoutMs: number;
  private homePromise?: Promise<string>;

  constructor(private readonly options: SftpFileSystemOptions) {
    this.opTimeoutMs = options.opTimeoutMs ?? 30_000;
  }

  home(): Promise<string> {
    // The home directory does not change while the server runs; a failure is not cached.
    this.homePromise ??= this.call<string>('realpath', '.', (s, cb) => s.realpath('.', cb)).catch((err) => {
      this.homePromise = undefined;
      throw err;
    });
    return this.homePromise;
  }

  async resolve(p: string) {
    // OpenSSH's realpath succeeds for a missing final component (it returns the path it would have), so
    // existence comes from a stat sent in the same round trip.
    const [real, stats] = await Promise.all([
      this.call<string>('realpath', p, (s, cb) => s.realpath(p, cb)),
      this.call<Stats>('stat', p, (s, cb) => s.stat(p, cb)),
    ]);
    return { path: real, stats: toStats(stats) };
  }

  async lstat(p: string): Promise<FileStats> {
    return toStats(await this.call<Stats>('lstat', p, (s, cb) => s.lstat(p, cb)));
  }

  async readDir(p: string, limit: number): Promise<DirListing> {
    const handle = await this.call<Buffer>('opendir', p, (s, cb) => s.opendir(p, cb));
    const entries: DirEntry[] = [];
    let truncated = false;
    try {
      for (;;) {
        let batch: Array<{ filename: string; attrs: Stats }>;
        try {
          batch = await this.call('readdir', p, (s, cb) => s.readdir(handle, cb));
        } catch (err) {
          if (err instanceof FsError && err.detail === 'EOF') break;
          throw err;
        }
        for (const e of batch) {
          if (e.filename === '.' || e.filename === '..') continue;
          if (entries.length >= limit) {
            truncated = true;
            break;
          }
          entries.push({ name: e.filename, stats: toStats(e.attrs) });
        }
        if (truncated) break;
      }
    } finally {
      await this.closeHandle(handle, p);
    }
    return { entries, truncated };
  }

  async openRead(p: string): Promise<ReadHandle> {
    const handle = await this.call<Buffer>('open', p, (s, cb) => s.open(p, 'r', cb));
    try {
      const stats = toStats(await this.call<Stats>('fstat', p, (s, cb) => s.fstat(handle, cb)));
      return new SftpReadHandle(this, handle, p, stats);
    } catch (err) {
      await this.closeHandle(handle, p);
      throw err;
    }
  }

  async createFile(p: string, data: Buffer, mode?: number): Promise<void> {
    let handle: Buffer;
    try {
      // 'wx' = WRITE|CREAT|EXCL|TRUNC: open(2) with O_CREAT|O_EXCL on the host, which never follows a symlink.
      handle = await this.call<Buffer>('create', p, (s, cb) => s.open(p, 'wx', cb));
    } catch (err) {
      throw await this.refine(err, p, 'EEXIST');
    }
    try {
      const chunks: Array<[number, number]> = [];
      for (let off = 0; off < data.length; off += WRITE_CHUNK) chunks.push([off, Math.min(WRITE_CHUNK, data.length - off)]);
      await inBatches(chunks, IN_FLIGHT, ([off, len]) =>
        this.call<void>('write', p, (s, cb) => s.write(handle, data, off, len, off, (e) => cb(e))),
      );
      // Set after writing, on the handle: exact bits, not filtered by the host's umask.
      if (mode !== undefined) await this.call<void>('fchmod', p, (s, cb) => s.fchmod(handle, mode, (e) => cb(e)));
      await this.fsync(handle, p);
      await this.call<void>('close', p, (s, cb) => s.close(handle, (e) => cb(e)));
    } catch (err) {
      await this.closeHandle(handle, p);
      await this.unlink(p).catch(() => undefined);
      throw err;
    }
  }

  async rename(from: string, to: string, overwrite: boolean): Promise<void> {
    if (overwrite) {
      // Plain SFTP rename refuses an existing target; OpenSSH's extension is rename(2).
      await this.call<void>('rename', from, (s, cb) => {
        try {
          s.ext_openssh_rename(from, to, (e) => cb(e));
        } catch {
          cb(Object.assign(new Error('posix-rename@openssh.com not supported'), { code: FX.OP_UNSUPPORTED }));
        }
      });
      return;
    }
    try {
      // OpenSSH implements plain SFTP rename with link(2) + unlink(2): it never replaces an existing file.
      await this.call<void>('rename', from, (s, cb) => s.rename(from, to, (e) => cb(e)));
    } catch (err) {
      throw await this.refine(err, to, 'EEXIST');
    }
  }

  async mkdir(p: string): Promise<void> {
    try {
      await this.call<void>('mkdir', p, (s, cb) => s.mkdir(p, (e) => cb(e)));
    } catch (err) {
      throw await this.refine(err, p, 'EEXIST');
    }
  }

  unlink(p: string): Promise<void> {
    return this.call<void>('unlink', p, (s, cb) => s.unlink(p, (e) => cb(e)));
  }

  async rmdir(p: string): Promise<void> {
    try {
      await this.call<void>('rmdir', p, (s, cb) => s.rmdir(p, (e) => cb(e)));
    } catch (err) {
      // A bare FAILURE from rmdir on an existing directory is almost always "not empty".
      if (err instanceof FsError && err.code === 'EIO') {
        const st = await this.lstat(p).catch(() => undefined);
        if (st?.type === 'directory') throw new FsError('ENOTEMPTY', 'rmdir', p, err.detail);
      }
      throw err;
    }
  }

  /** One SFTP request with a bound; SFTP status codes become FsErrors, connection trouble an AppError. */
  call<T>(op: string, p: string, fn: (sftp: SFTPWrapper, cb: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
    return this.options.sftp().then(
      (sftp) =>
        new Promise<T>((resolve, reject) => {
          const answered = this.options.awaitReply?.() ?? (() => {});
          const timer = setTimeout(() => {
            answered();
            reject(
              new AppError(
                504,
                'HOST_TIMEOUT',
                `The SFTP ${op} of ${p} on ${this.options.address} got no answer within ${this.opTimeoutMs / 1000} s; check that the host is not overloaded or its disk hung, then try again.`,
              ),
            );
          }, this.opTimeoutMs);
          try {
            fn(sftp, (err, value) => {
              answered();
              clearTimeout(timer);
              if (err) reject(this.toError(err, op, p));
              else resolve(value as T);
            });
          } catch (err) {
            answered();
            clearTimeout(timer);
            reject(this.toError(err as Error, op, p));
          }
        }),
    );
  }

  private toError(err: Error & { code?: unknown }, op: string, p: string): Error {
    if (err instanceof AppError) return err;
    const text = err.message;
    switch (err.code) {
      case FX.EOF:
        return new FsError('EIO', op, p, 'EOF');
      case FX.NO_SUCH_FILE:
        return new FsError('ENOENT', op, p, text);
      case FX.PERMISSION_DENIED:
        return new FsError('EACCES', op, p, text);
      case FX.BAD_MESSAGE:
        // OpenSSH maps ENAMETOOLONG and EINVAL here.
        return new FsError('EINVAL', op, p, text);
      case FX.OP_UNSUPPORTED:
        return new FsError('ENOTSUP', op, p, text);
      case FX.FAILURE:
        return new FsError('EIO', op, p, text);
      case FX.NO_CONNECTION:
      case FX.CONNECTION_LOST:
      default:
        // ssh2 fails every outstanding request with "No response from server" when the channel closes.
        return new AppError(
          503,
          'HOST_UNREACHABLE',
          `The SFTP session to ${this.options.address} was lost during ${op} of ${p}; the operation may or may not have taken effect, so check before retrying.`,
        );
    }
  }

  /** A generic FAILURE becomes `code` when the path now exists (the only way that call fails on an existing entry). */
  private async refine(err: unknown, p: string, code: FsErrorCode): Promise<unknown> {
    if (!(err instanceof FsError) || err.code !== 'EIO') return err;
    const exists = await this.lstat(p).then(
      () => true,
      () => false,
    );
    return exists ? new FsError(code, err.op, p, err.detail) : err;
  }

  private async fsync(handle: Buffer, p: string): Promise<void> {
    try {
      await this.call<void>('fsync', p, (s, cb) => {
        try {
          s.ext_openssh_fsync(handle, (e) => cb(e));
        } catch {
          cb(Object.assign(new Error('fsync@openssh.com not supported'), { code: FX.OP_UNSUPPORTED }));
        }
      });
    } catch (err) {
      // Servers without fsync@openssh.com: the data still reaches the disk, just without the barrier.
      if (!(err instanceof FsError && err.code === 'ENOTSUP')) throw err;
    }
  }

  async closeHandle(handle: Buffer, p: string): Promise<void> {
    await this.call<void>('close', p, (s, cb) => s.close(handle, (e) => cb(e))).catch(() => undefined);
  }
}

class SftpReadHandle implements ReadHandle {
  constructor(
    private readonly fs: SftpFileSystem,
    private readonly handle: Buffer,
    private readonly p: string,
    readonly stats: FileStats,
  ) {}

  async read(position: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    const chunks: Array<[number, number]> = [];
    for (let off = 0; off < length; off += READ_CHUNK) chunks.push([off, Math.min(READ_CHUNK, length - off)]);
    const got = await inBatches(chunks, IN_FLIGHT, ([off, len]) => this.readFully(out, off, len, position + off));
    // Chunks are contiguous; the first short one marks the end of the file.
    let total = 0;
    for (let i = 0; i < chunks.length; i++) {
      total += got[i];
      if (got[i] < chunks[i][1]) break;
    }
    return out.subarray(0, total);
  }

  /** One chunk; a server may answer a read with fewer bytes than asked before the end of the file. */
  private async readFully(buf: Buffer, off: number, len: number, position: number): Promise<number> {
    let got = 0;
    while (got < len) {
      const n = await this.fs
        .call<number>('read', this.p, (s, cb) => s.read(this.handle, buf, off + got, len - got, position + got, (e, bytes) => cb(e, bytes)))
        .catch((err) => {
          if (err instanceof FsError && err.detail === 'EOF') return 0;
          throw err;
        });
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  close(): Promise<void> {
    return this.fs.closeHandle(this.handle, this.p);
  }
}

/** Runs `fn` over `items` with at most `n` in flight; results in item order. */
async function inBatches<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}
