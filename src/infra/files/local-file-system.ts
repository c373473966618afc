/**
 * FileSystem over node:fs, for the local transport (the server runs on the GPU host itself).
 */
import { constants, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, opendir, realpath, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  FsError,
  fileStatsOf,
  type DirEntry,
  type DirListing,
  type FileStats,
  type FileSystem,
  type FsErrorCode,
  type ReadHandle,
} from './file-system.js';

const KNOWN_CODES = new Set<string>([
  'ENOENT',
  'EACCES',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'ENOTEMPTY',
  'ELOOP',
  'ENAMETOOLONG',
  'EINVAL',
  'EXDEV',
  'ENOSPC',
  'EROFS',
]);

function toFsError(err: unknown, op: string, p: string): FsError {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  if (KNOWN_CODES.has(code)) return new FsError(code as FsErrorCode, op, p);
  if (code === 'EPERM') return new FsError('EACCES', op, p, 'EPERM');
  if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') return new FsError('ENOTSUP', op, p);
  if (code === 'EDQUOT') return new FsError('ENOSPC', op, p, 'EDQUOT');
  return new FsError('EIO', op, p, code || (err as Error)?.message);
}

async function fsCall<T>(op: string, p: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFsError(err, op, p);
  }
}

function toStats(s: Stats): FileStats {
  return fileStatsOf(s.mode, s.size, s.mtimeMs);
}

/** link(2) cannot make this rename exclusive: a directory, or a file system without hard links. */
const NO_HARD_LINK = new Set(['EPERM', 'EXDEV', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

export class LocalFileSystem implements FileSystem {
  async home(): Promise<string> {
    return os.homedir();
  }

  resolve(p: string) {
    return fsCall('realpath', p, async () => {
      const real = await realpath(p);
      return { path: real, stats: toStats(await stat(real)) };
    });
  }

  lstat(p: string): Promise<FileStats> {
    return fsCall('lstat', p, async () => toStats(await lstat(p)));
  }

  readDir(p: string, limit: number): Promise<DirListing> {
    return fsCall('readdir', p, async () => {
      const dir = await opendir(p, { bufferSize: 128 });
      const entries: DirEntry[] = [];
      let truncated = false;
      try {
        for await (const d of dir) {
          if (entries.length >= limit) {
            truncated = true;
            break;
          }
          try {
            entries.push({ name: d.name, stats: toStats(await lstat(path.join(p, d.name))) });
          } catch (err) {
            // Removed between readdir and lstat: it is simply not there any more.
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
      } finally {
        // Breaking out of the async iterator closes the Dir already; closing twice throws.
        await dir.close().catch(() => undefined);
      }
      return { entries, truncated };
    });
  }

  openRead(p: string): Promise<ReadHandle> {
    return fsCall('open', p, async () => {
      // O_NOFOLLOW: the jail resolved `p`, so a symlink here was swapped in since; O_NONBLOCK: opening a
      // FIFO must not hang the request (the service refuses anything but regular files after fstat).
      const fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        return new LocalReadHandle(fh, p, toStats(await fh.stat()));
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
    });
  }

  createFile(p: string, data: Buffer, mode?: number): Promise<void> {
    return fsCall('create', p, async () => {
      // O_EXCL with O_CREAT fails on any existing entry, a symlink included, and never follows one.
      const fh = await open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
      try {
        let written = 0;
        while (written < data.length) {
          const { bytesWritten } = await fh.write(data, written, data.length - written, written);
          written += bytesWritten;
        }
        if (mode !== undefined) await fh.chmod(mode);
        // Without this, a crash soon after the rename can leave an empty file where the old one was.
        await fh.datasync();
        await fh.close();
      } catch (err) {
        await fh.close().catch(() => undefined);
        await unlink(p).catch(() => undefined);
        throw err;
      }
    });
  }

  rename(from: string, to: string, overwrite: boolean): Promise<void> {
    return fsCall('rename', from, async () => {
      if (overwrite) return rename(from, to);
      // Node has no renameat2(RENAME_NOREPLACE). A hard link fails atomically when `to` exists (as
      // OpenSSH's sftp-server does it); directories fall back to check-then-rename.
      try {
        await link(from, to);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!NO_HARD_LINK.has(code)) throw err;
        const exists = await lstat(to).then(
          () => true,
          () => false,
        );
        if (exists) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        return rename(from, to);
      }
      await unlink(from);
    });
  }

  mkdir(p: string): Promise<void> {
    return fsCall('mkdir', p, async () => {
      await mkdir(p);
    });
  }

  unlink(p: string): Promise<void> {
    return fsCall('unlink', p, () => unlink(p));
  }

  rmdir(p: string): Promise<void> {
    return fsCall('rmdir', p, () => rmdir(p));
  }
}

class LocalReadHandle implements ReadHandle {
  constructor(
    private readonly fh: FileHandle,
    private readonly p: string,
    readonly stats: FileStats,
  ) {}

  read(position: number, length: number): Promise<Buffer> {
    return fsCall('read', this.p, async () => {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    });
  }

  close(): Promise<void> {
    return fsCall('close', this.p, () => this.fh.close());
  }
}
