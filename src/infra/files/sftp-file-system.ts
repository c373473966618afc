/**
 * FileSystem over SFTP, using ssh2's own SFTPWrapper on the host's pooled SSH connection (one cached
 * session, re-opened by the transport after a reconnect).
 *
 * SFTP v3 (all OpenSSH speaks) has only a few status codes: ENOENT, ENOTDIR and ELOOP all arrive as
 * NO_SUCH_FILE; EEXIST, ENOTEMPTY, EISDIR as a bare FAILURE. Where the files module needs the real cause
 * the adapter looks (an lstat after a failed exclusive create tells EEXIST apart), otherwise it says EIO.
 */
import type { Stats } from 'ssh2';
import { FsError, fileStatsOf, type DirEntry, type DirListing, type FileStats, type FileSystem, type ReadHandle } from './file-system.js';
import { FX, isEof, SftpRequests, type SftpFileSystemOptions } from './sftp-requests.js';

/** Reads are issued in chunks of this size, several in flight at once. */
const READ_CHUNK = 64 * 1024;
const WRITE_CHUNK = 64 * 1024;
const IN_FLIGHT = 8;

function toStats(s: Stats): FileStats {
  return fileStatsOf(s.mode, s.size, s.mtime * 1000);
}

export class SftpFileSystem implements FileSystem {
  private readonly requests: SftpRequests;
  private homePromise?: Promise<string>;

  constructor(options: SftpFileSystemOptions) {
    this.requests = new SftpRequests(options);
  }

  home(): Promise<string> {
    // The home directory does not change while the server runs; a failure is not cached.
    this.homePromise ??= this.requests
      .call<string>('realpath', '.', (s, cb) => s.realpath('.', cb))
      .catch((err) => {
        this.homePromise = undefined;
        throw err;
      });
    return this.homePromise;
  }

  async resolve(p: string) {
    // OpenSSH's realpath succeeds for a missing final component (it returns the path it would have), so
    // existence comes from a stat sent in the same round trip.
    const [real, stats] = await Promise.all([
      this.requests.call<string>('realpath', p, (s, cb) => s.realpath(p, cb)),
      this.requests.call<Stats>('stat', p, (s, cb) => s.stat(p, cb)),
    ]);
    return { path: real, stats: toStats(stats) };
  }

  async lstat(p: string): Promise<FileStats> {
    return toStats(await this.requests.call<Stats>('lstat', p, (s, cb) => s.lstat(p, cb)));
  }

  async readDir(p: string, limit: number): Promise<DirListing> {
    const handle = await this.requests.call<Buffer>('opendir', p, (s, cb) => s.opendir(p, cb));
    const entries: DirEntry[] = [];
    let truncated = false;
    try {
      for (;;) {
        let batch: Array<{ filename: string; attrs: Stats }>;
        try {
          batch = await this.requests.call('readdir', p, (s, cb) => s.readdir(handle, cb));
        } catch (err) {
          if (isEof(err)) break;
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
      await this.requests.closeHandle(handle, p);
    }
    return { entries, truncated };
  }

  async openRead(p: string): Promise<ReadHandle> {
    const handle = await this.requests.call<Buffer>('open', p, (s, cb) => s.open(p, 'r', cb));
    try {
      const stats = toStats(await this.requests.call<Stats>('fstat', p, (s, cb) => s.fstat(handle, cb)));
      return new SftpReadHandle(this.requests, handle, p, stats);
    } catch (err) {
      await this.requests.closeHandle(handle, p);
      throw err;
    }
  }

  async createFile(p: string, data: Buffer, mode?: number): Promise<void> {
    let handle: Buffer;
    try {
      // 'wx' = WRITE|CREAT|EXCL|TRUNC: open(2) with O_CREAT|O_EXCL on the host, which never follows a symlink.
      handle = await this.requests.call<Buffer>('create', p, (s, cb) => s.open(p, 'wx', cb));
    } catch (err) {
      throw await this.existsOr(err, p);
    }
    try {
      const chunks: Array<[number, number]> = [];
      for (let off = 0; off < data.length; off += WRITE_CHUNK) chunks.push([off, Math.min(WRITE_CHUNK, data.length - off)]);
      await inBatches(chunks, IN_FLIGHT, ([off, len]) =>
        this.requests.call<void>('write', p, (s, cb) => s.write(handle, data, off, len, off, (e) => cb(e))),
      );
      // Set after writing, on the handle: exact bits, not filtered by the host's umask.
      if (mode !== undefined) await this.requests.call<void>('fchmod', p, (s, cb) => s.fchmod(handle, mode, (e) => cb(e)));
      await this.fsync(handle, p);
      await this.requests.call<void>('close', p, (s, cb) => s.close(handle, (e) => cb(e)));
    } catch (err) {
      await this.requests.closeHandle(handle, p);
      await this.unlink(p).catch(() => undefined);
      throw err;
    }
  }

  async rename(from: string, to: string, overwrite: boolean): Promise<void> {
    if (overwrite) {
      // Plain SFTP rename refuses an existing target; OpenSSH's extension is rename(2).
      await this.requests.call<void>('rename', from, (s, cb) => {
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
      await this.requests.call<void>('rename', from, (s, cb) => s.rename(from, to, (e) => cb(e)));
    } catch (err) {
      throw await this.existsOr(err, to);
    }
  }

  async mkdir(p: string): Promise<void> {
    try {
      await this.requests.call<void>('mkdir', p, (s, cb) => s.mkdir(p, (e) => cb(e)));
    } catch (err) {
      throw await this.existsOr(err, p);
    }
  }

  unlink(p: string): Promise<void> {
    return this.requests.call<void>('unlink', p, (s, cb) => s.unlink(p, (e) => cb(e)));
  }

  async rmdir(p: string): Promise<void> {
    try {
      await this.requests.call<void>('rmdir', p, (s, cb) => s.rmdir(p, (e) => cb(e)));
    } catch (err) {
      // A bare FAILURE from rmdir on an existing directory is almost always "not empty".
      if (err instanceof FsError && err.code === 'EIO') {
        const st = await this.lstat(p).catch(() => undefined);
        if (st?.type === 'directory') throw new FsError('ENOTEMPTY', 'rmdir', p, err.detail);
      }
      throw err;
    }
  }

  /**
   * A generic FAILURE becomes EEXIST when the path now exists: the only way an exclusive create, a
   * plain rename or a mkdir fails on an existing entry.
   */
  private async existsOr(err: unknown, p: string): Promise<unknown> {
    if (!(err instanceof FsError) || err.code !== 'EIO') return err;
    const exists = await this.lstat(p).then(
      () => true,
      () => false,
    );
    return exists ? new FsError('EEXIST', err.op, p, err.detail) : err;
  }

  private async fsync(handle: Buffer, p: string): Promise<void> {
    try {
      await this.requests.call<void>('fsync', p, (s, cb) => {
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
}

class SftpReadHandle implements ReadHandle {
  constructor(
    private readonly requests: SftpRequests,
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
      const n = await this.requests
        .call<number>('read', this.p, (s, cb) => s.read(this.handle, buf, off + got, len - got, position + got, (e, bytes) => cb(e, bytes)))
        .catch((err) => {
          if (isEof(err)) return 0;
          throw err;
        });
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  close(): Promise<void> {
    return this.requests.closeHandle(this.handle, this.p);
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
