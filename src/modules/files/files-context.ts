/**
 * What every files operation works with (the host, its file system and its jail), and the checks and
 * conversions the service, the search and the write-side primitives all share.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { badRequest } from '../../common/errors.js';
import type { DirEntry, FileSystem, FileType, ReadHandle } from '../../infra/files/file-system.js';
import type { Host } from '../../infra/host-registry.js';
import type { FileEntry } from './dto/files.dto.js';
import { fsToAppError } from './files-errors.js';
import type { PathJail } from './path-jail.js';

export const MiB = 1024 * 1024;

export interface FilesContext {
  host: Host;
  fs: FileSystem;
  jail: PathJail;
}

/** Runs one file-system call, turning its FsError into the documented error. */
export async function io<T>(ctx: FilesContext, doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fsToAppError(err, ctx.host.name, doing);
  }
}

/** 400 unless `type` is a regular file: the file tools read and write nothing else. */
export function assertRegularFile(ctx: FilesContext, p: string, type: FileType): void {
  if (type === 'file') return;
  if (type === 'directory')
    throw badRequest(`${p} on host '${ctx.host.name}' is a directory, not a file; use files_list to see what is in it.`);
  throw badRequest(
    `${p} on host '${ctx.host.name}' is not a regular file (a device, FIFO or socket); the file tools only read and write regular files.`,
  );
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
export const isoTime = (ms: number) => new Date(ms).toISOString();
export const octal = (mode: number) => mode.toString(8).padStart(4, '0');
/** Sort order of listings and of each directory a search walks: by name, code unit by code unit. */
export const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function toEntry(dir: string, e: DirEntry): FileEntry {
  return {
    name: e.name,
    path: path.posix.join(dir, e.name),
    type: e.stats.type,
    size_bytes: e.stats.size,
    modified_at: isoTime(e.stats.mtimeMs),
    mode: octal(e.stats.mode),
  };
}

/** SHA-256 of a file through an open handle, read in 1 MiB pieces (never the whole file in memory). */
export async function hashHandle(handle: Pick<ReadHandle, 'read'>, size: number): Promise<string> {
  const hash = createHash('sha256');
  for (let pos = 0; pos < size;) {
    const chunk = await handle.read(pos, MiB);
    if (chunk.length === 0) break;
    hash.update(chunk);
    pos += chunk.length;
  }
  return hash.digest('hex');
}
