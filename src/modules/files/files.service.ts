import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Injectable } from '@nestjs/common';
import { yieldToEventLoop } from '../../common/async.js';
import { AppError, badRequest, conflict, forbidden, notFound, tooLarge } from '../../common/errors.js';
import { countThatFit, defaultPageBytes } from '../../common/result-budget.js';
import { isFsError, type DirEntry, type FileStats, type FileSystem, type FileType } from '../../infra/files/file-system.js';
import { HostRegistry, type Host } from '../../infra/host-registry.js';
import {
  FILES_LIMITS,
  type FileEntry,
  type FilesDeleteInput,
  type FilesDeleteResult,
  type FilesEditInput,
  type FilesEditResult,
  type FilesListInput,
  type FilesListResult,
  type FilesMkdirInput,
  type FilesMkdirResult,
  type FilesMoveInput,
  type FilesMoveResult,
  type FilesReadInput,
  type FilesReadResult,
  type FilesSearchInput,
  type FilesSearchResult,
  type FilesStatInput,
  type FilesStatResult,
  type FilesWriteInput,
  type FilesWriteResult,
} from './dto/files.dto.js';
import { fsToAppError } from './files-errors.js';
import { isInside, PathJail, type Target } from './path-jail.js';
import { ProtectedPaths } from './protected-paths.js';
import { asText, Glob, toPage } from './text.js';
import { unifiedDiff } from './unified-diff.js';
import { clip } from '../../common/text.js';

const posix = path.posix;
const MiB = 1024 * 1024;

/** What every operation works with: the host, its file system and its jail. */
interface Ctx {
  host: Host;
  fs: FileSystem;
  jail: PathJail;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const isoTime = (ms: number) => new Date(ms).toISOString();
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

function toEntry(dir: string, e: DirEntry): FileEntry {
  return {
    name: e.name,
    path: posix.join(dir, e.name),
    type: e.stats.type,
    size_bytes: e.stats.size,
    modified_at: isoTime(e.stats.mtimeMs),
    mode: octal(e.stats.mode),
  };
}

function excerpt(text: string, max = 60): string {
  const oneLine = text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return clip(oneLine, max);
}

/**
 * Counts occurrences that do not overlap, stopping past `stopAt`: overlapping ones ("aaa" in a run of a's)
 * cost a comparison of the whole needle at every position, minutes for a 1 MiB needle in 10 MiB.
 */
function occurrences(haystack: string, needle: string, stopAt = 1000): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i >= 0 && count < stopAt; i = haystack.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** Strict base64 (padding optional, whitespace ignored), or null. No grouped regex: content is up to 14 MB. */
function decodeBase64(content: string): Buffer | null {
  const compact = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return null;
  if (compact.endsWith('=') && compact.length % 4 !== 0) return null;
  return Buffer.from(compact, 'base64');
}

@Injectable()
export class FilesService {
  private readonly jails = new Map<string, PathJail>();

  constructor(private readonly hosts: HostRegistry) {}

  async files_list(input: FilesListInput): Promise<FilesListResult> {
    const ctx = this.ctx(input.host);
    const dir = await ctx.jail.existing(input.path ?? '.');
    if (dir.stats.type !== 'directory') {
      throw badRequest(`${dir.path} on host '${ctx.host.name}' is a file, not a directory; use files_read or files_stat for it.`);
    }
    const listing = await this.io(ctx, `list ${dir.path}`, () => ctx.fs.readDir(dir.path, FILES_LIMITS.listMaxEntries));
    const all = listing.entries.map((e) => toEntry(dir.path, e)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const shown = input.max_entries ?? countThatFit(all, ctx.host.config.results.default_max_bytes);
    const entries = all.slice(0, shown);
    const truncated = listing.truncated || entries.length < all.length;
    if (!truncated) return { path: dir.path, entries, truncated };
    const total = listing.truncated ? `more than ${all.length}` : String(all.length);
    return {
      path: dir.path,
      entries,
      truncated,
      note:
        `Showing ${entries.length} of ${total} entries, sorted by name. ` +
        (entries.length < FILES_LIMITS.listMaxEntries
          ? `Pass max_entries (at most ${FILES_LIMITS.listMaxEntries}) for more, or `
          : 'Use ') +
        'files_search with a name pattern to find specific files.',
    };
  }

  async files_stat(input: FilesStatInput): Promise<FilesStatResult> {
    const ctx = this.ctx(input.host);
    const r = await ctx.jail.existing(input.path);
    return { path: r.path, type: r.stats.type, size_bytes: r.stats.size, modified_at: isoTime(r.stats.mtimeMs), mode: octal(r.stats.mode) };
  }

  async files_read(input: FilesReadInput): Promise<FilesReadResult> {
    const ctx = this.ctx(input.host);
    const r = await ctx.jail.existing(input.path);
    this.assertRegularFile(ctx, r.path, r.stats.type);
    const handle = await this.io(ctx, `open ${r.path}`, () => ctx.fs.openRead(r.path));
    try {
      const stats = handle.stats;
      // Checked again on the handle: this is what is actually read.
      this.assertRegularFile(ctx, r.path, stats.type);
      const size = stats.size;
      const offset = input.offset ?? 0;
      if (offset > size) {
        throw badRequest(
          `Invalid input: offset ${offset} is past the end of ${r.path} (${size} bytes); read from an offset between 0 and ${size}.`,
        );
      }
      const want = Math.min(input.max_bytes ?? defaultPageBytes(ctx.host.config.results.default_max_bytes), size - offset);
      const bytes = await this.io(ctx, `read ${r.path}`, () => handle.read(offset, want));
      const page = toPage(bytes, offset + bytes.length >= size);
      const end = offset + page.length;
      let hash: string | null = null;
      let note: string | undefined;
      if (size <= FILES_LIMITS.hashMaxBytes) {
        hash = offset === 0 && bytes.length === size ? sha256(bytes) : await this.io(ctx, `read ${r.path}`, () => hashHandle(handle, size));
      } else {
        note = `Not computed: the file is ${(size / MiB).toFixed(1)} MiB and only files up to ${FILES_LIMITS.hashMaxBytes / MiB} MiB are hashed on every read; run sha256sum on the host (shell_exec) if you need it.`;
      }
      return {
        path: r.path,
        content: page.content,
        encoding: page.encoding,
        size_bytes: size,
        offset,
        length_bytes: page.length,
        truncated: end < size,
        next_offset: end < size ? end : null,
        ...(end < size
          ? {
              note:
                `Bytes ${offset}-${end} of ${size} shown. Read on with offset ${end}` +
                (size - end > page.length ? `, or the end with offset ${size - page.length}` : '') +
                `; max_bytes (at most ${FILES_LIMITS.readMaxBytes}) reads more at once.`,
            }
          : {}),
        sha256: hash,
        ...(note ? { sha256_note: note } : {}),
        modified_at: isoTime(stats.mtimeMs),
      };
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async files_search(input: FilesSearchInput): Promise<FilesSearchResult> {
    const ctx = this.ctx(input.host);
    const glob = Glob.compile(input.pattern);
    if (!glob)
      throw badRequest(
        `Invalid input: pattern ${JSON.stringify(input.pattern)} is malformed (an unclosed "[" or a reversed range such as [z-a]); quote a literal "[" as "\\[".`,
      );
    const dir = await ctx.jail.existing(input.path ?? '.');
    if (dir.stats.type !== 'directory') {
      throw badRequest(`${dir.path} on host '${ctx.host.name}' is a file, not a directory; search under a directory.`);
    }
    const maxResults = input.max_results ?? FILES_LIMITS.searchDefaultResults;
    const deadline = Date.now() + FILES_LIMITS.searchMaxSeconds * 1000;
    const matches: FileEntry[] = [];
    let visited = 0;
    let unreadable = 0;
    let stopped: FilesSearchResult['stopped_reason'] = null;
    // Breadth first, a few directories in flight: shallow matches come first, and SFTP round trips overlap.
    const queue = [dir.path];
    let next = 0;
    walk: while (next < queue.length) {
      if (Date.now() >= deadline) {
        stopped = 'time_limit';
        break;
      }
      const batch = queue.slice(next, next + 8);
      next += batch.length;
      const budget = FILES_LIMITS.searchMaxVisited - visited;
      const listings = await Promise.all(
        batch.map((d) =>
          ctx.fs.readDir(d, budget).catch((err: unknown) => {
            // Unreadable or vanished meanwhile: skip it, say how many, and carry on.
            if (isFsError(err, 'EACCES', 'ENOENT', 'ENOTDIR')) {
              unreadable++;
              return { entries: [], truncated: false };
            }
            throw fsToAppError(err, ctx.host.name, `search ${d}`);
          }),
        ),
      );
      for (let i = 0; i < batch.length; i++) {
        const sorted = [...listings[i].entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const e of sorted) {
          if (visited >= FILES_LIMITS.searchMaxVisited) {
            stopped = 'max_entries';
            break walk;
          }
          visited++;
          if (visited % 2000 === 0) await yieldToEventLoop();
          if (glob.matches(e.name)) {
            if (matches.length >= maxResults) {
              stopped = 'max_results';
              break walk;
            }
            matches.push(toEntry(batch[i], e));
          }
          // lstat types: a symlinked directory is "symlink" and is not descended into. A protected
          // directory (.ssh) is a match like any other name, but what is in it is not shown.
          const child = posix.join(batch[i], e.name);
          if (e.stats.type === 'directory' && !ctx.jail.protectedPaths.match(child)) queue.push(child);
        }
        if (listings[i].truncated) {
          stopped = 'max_entries';
          break walk;
        }
      }
    }
    const shown = input.max_results === undefined ? countThatFit(matches, ctx.host.config.results.default_max_bytes) : matches.length;
    if (shown < matches.length) stopped = 'max_results';
    return {
      path: dir.path,
      pattern: input.pattern,
      matches: matches.slice(0, shown),
      truncated: stopped !== null,
      stopped_reason: stopped,
      entries_visited: visited,
      unreadable_directories: unreadable,
      ...(stopped === 'max_results'
        ? {
            note: `Stopped after ${shown} matches. Pass max_results (at most ${FILES_LIMITS.searchMaxResults}) for more, or search a narrower path or pattern.`,
          }
        : stopped
          ? { note: `Stopped early (${stopped}) after looking at ${visited} entries; search a narrower path.` }
          : {}),
    };
  }

  async files_write(input: FilesWriteInput): Promise<FilesWriteResult> {
    const ctx = this.ctx(input.host);
    const data = this.decodeContent(input.content, input.encoding ?? 'utf-8');
    if (data.length > FILES_LIMITS.writeMaxBytes) {
      throw tooLarge(
        `The content is ${(data.length / MiB).toFixed(1)} MiB; files_write takes at most ${FILES_LIMITS.writeMaxBytes / MiB} MiB per file.`,
      );
    }
    const t = await ctx.jail.target(input.path);
    if (t.existing && t.existing.type !== 'file') this.assertRegularFile(ctx, t.path, t.existing.type);
    await this.atomicWrite(ctx, t, data, input.expected_sha256, input.create_parents ?? false);
    return { path: t.path, size_bytes: data.length, sha256: sha256(data), created: t.existing === null };
  }

  async files_edit(input: FilesEditInput): Promise<FilesEditResult> {
    const ctx = this.ctx(input.host);
    const r = await ctx.jail.existing(input.path);
    this.assertRegularFile(ctx, r.path, r.stats.type);
    if (r.stats.size > FILES_LIMITS.writeMaxBytes) {
      throw tooLarge(
        `${r.path} is ${(r.stats.size / MiB).toFixed(1)} MiB; files_edit edits files up to ${FILES_LIMITS.writeMaxBytes / MiB} MiB.`,
      );
    }
    const bytes = await this.readWhole(ctx, r.path);
    const text = asText(bytes);
    if (text === null) {
      throw badRequest(
        `${r.path} on host '${ctx.host.name}' is not a UTF-8 text file (binary or another encoding); files_edit only edits text, use files_write with base64 content instead.`,
      );
    }
    const current = sha256(bytes);
    if (input.expected_sha256 && input.expected_sha256.toLowerCase() !== current)
      throw this.staleHash(r.path, current, input.expected_sha256);

    let next = text;
    for (const [i, edit] of input.edits.entries()) {
      // Each edit copies a text of up to 10 MiB: the event loop gets a turn between them.
      await yieldToEventLoop();
      const where = `edit ${i + 1} of ${input.edits.length} (old_text "${excerpt(edit.old_text)}")`;
      const at = next.indexOf(edit.old_text);
      if (at < 0) {
        const crlf = next.includes('\r\n') && edit.old_text.includes('\n') && !edit.old_text.includes('\r\n');
        throw conflict(
          `${where} was not found in ${r.path}${i > 0 ? ' after the edits before it' : ''}; copy the exact text from files_read, whitespace and line breaks included${crlf ? ' (this file uses CRLF line endings: write them as \\r\\n)' : ''}. Nothing was changed.`,
        );
      }
      const count = occurrences(next, edit.old_text);
      if (count > 1) {
        throw conflict(
          `${where} was found ${count} times in ${r.path}; include more of the surrounding lines in old_text so it matches exactly once. Nothing was changed.`,
        );
      }
      next = next.slice(0, at) + edit.new_text + next.slice(at + edit.old_text.length);
    }

    const diff = unifiedDiff(text, next, { oldName: r.path, newName: r.path });
    if (input.dry_run || next === text) return { path: r.path, diff, sha256: current, applied: false };
    const newBytes = Buffer.from(next, 'utf8');
    if (newBytes.length > FILES_LIMITS.writeMaxBytes) {
      throw tooLarge(
        `The edited file would be ${(newBytes.length / MiB).toFixed(1)} MiB; files are limited to ${FILES_LIMITS.writeMaxBytes / MiB} MiB.`,
      );
    }
    // The hash was checked on the bytes the edits were applied to.
    await this.atomicWrite(
      ctx,
      { path: r.path, existing: r.stats, missing: [], ancestor: posix.dirname(r.path) },
      newBytes,
      undefined,
      false,
    );
    return { path: r.path, diff, sha256: sha256(newBytes), applied: true };
  }

  async files_mkdir(input: FilesMkdirInput): Promise<FilesMkdirResult> {
    const ctx = this.ctx(input.host);
    const t = await ctx.jail.target(input.path);
    if (t.existing) {
      if (t.existing.type === 'directory') return { path: t.path, created: false };
      throw conflict(`${t.path} on host '${ctx.host.name}' already exists and is not a directory; choose another name or delete it first.`);
    }
    const created = await this.makeDirs(ctx, t.ancestor, t.missing);
    return { path: t.path, created };
  }

  async files_move(input: FilesMoveInput): Promise<FilesMoveResult> {
    const ctx = this.ctx(input.host);
    const from = await ctx.jail.entry(input.from, 'files_move');
    const to = await ctx.jail.entry(input.to, 'files_move', true);
    if (from.path === to.path) return { from: from.path, to: to.path };
    const overwrite = input.overwrite ?? false;
    if (to.stats) {
      if (!overwrite)
        throw conflict(
          `${to.path} on host '${ctx.host.name}' already exists; pass overwrite: true to replace it (files only), or choose another name.`,
        );
      if (to.stats.type === 'directory')
        throw conflict(
          `${to.path} on host '${ctx.host.name}' is a directory and is never replaced; give the full new path of the entry, e.g. ${posix.join(to.path, posix.basename(from.path))}.`,
        );
      if (from.stats!.type === 'directory')
        throw conflict(`Cannot replace the file ${to.path} with the directory ${from.path}; delete the file first or choose another name.`);
    }
    if (from.stats!.type === 'directory' && isInside(from.path, to.path)) {
      throw badRequest(`Invalid input: cannot move the directory ${from.path} into itself (${to.path}).`);
    }
    try {
      // Without a file to replace, the rename is exclusive: something created at `to` meanwhile is kept.
      await ctx.fs.rename(from.path, to.path, overwrite && to.stats !== null);
    } catch (err) {
      if (isFsError(err, 'EEXIST'))
        throw conflict(`${to.path} on host '${ctx.host.name}' appeared while moving; nothing was moved, check it and try again.`);
      throw fsToAppError(err, ctx.host.name, `move ${from.path} to ${to.path}`);
    }
    return { from: from.path, to: to.path };
  }

  async files_delete(input: FilesDeleteInput): Promise<FilesDeleteResult> {
    const ctx = this.ctx(input.host);
    const e = await ctx.jail.entry(input.path, 'files_delete');
    const type = e.stats!.type;
    let count = 1;
    if (type === 'directory') {
      if (!input.recursive) {
        throw conflict(`${e.path} on host '${ctx.host.name}' is a directory; pass recursive: true to delete it and everything in it.`);
      }
      await this.assertNothingProtectedBelow(ctx, e.path);
      count = await this.removeTree(ctx, e.path);
    } else {
      await this.io(ctx, `delete ${e.path}`, () => ctx.fs.unlink(e.path));
    }
    return { path: e.path, type, entries_deleted: count };
  }

  // -------------------------------------------------------------------------------------------------------

  private ctx(hostName?: string): Ctx {
    const host = this.hosts.get(hostName);
    let jail = this.jails.get(host.name);
    if (!jail) {
      jail = new PathJail(host.files, host.config.files_root, host.name, new ProtectedPaths(host.config.files_protected_paths));
      this.jails.set(host.name, jail);
    }
    return { host, fs: host.files, jail };
  }

  /** Runs one file-system call, turning its FsError into the documented error. */
  private async io<T>(ctx: Ctx, doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fsToAppError(err, ctx.host.name, doing);
    }
  }

  private assertRegularFile(ctx: Ctx, p: string, type: FileType): void {
    if (type === 'file') return;
    if (type === 'directory')
      throw badRequest(`${p} on host '${ctx.host.name}' is a directory, not a file; use files_list to see what is in it.`);
    throw badRequest(
      `${p} on host '${ctx.host.name}' is not a regular file (a device, FIFO or socket); the file tools only read and write regular files.`,
    );
  }

  private decodeContent(content: string, encoding: 'utf-8' | 'base64'): Buffer {
    if (encoding === 'utf-8') return Buffer.from(content, 'utf8');
    // Buffer.from(.., 'base64') skips characters it does not know; a typo must not silently lose data.
    const data = decodeBase64(content);
    if (!data)
      throw badRequest(
        'Invalid input: content is not valid base64 (encoding is "base64"); send standard base64, or use encoding "utf-8" for text.',
      );
    return data;
  }

  private staleHash(p: string, actual: string, expected: string): AppError {
    return conflict(
      `${p} has changed: its sha256 is ${actual}, not the expected ${expected.toLowerCase()}; read it again (files_read) and redo the change on the current content.`,
    );
  }

  private async readWhole(ctx: Ctx, p: string): Promise<Buffer> {
    const handle = await this.io(ctx, `open ${p}`, () => ctx.fs.openRead(p));
    try {
      this.assertRegularFile(ctx, p, handle.stats.type);
      // One byte more than the limit tells a file that grew since the check.
      const bytes = await this.io(ctx, `read ${p}`, () => handle.read(0, FILES_LIMITS.writeMaxBytes + 1));
      if (bytes.length > FILES_LIMITS.writeMaxBytes)
        throw tooLarge(`${p} is larger than ${FILES_LIMITS.writeMaxBytes / MiB} MiB; files_edit edits files up to that size.`);
      return bytes;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private async hashFile(ctx: Ctx, p: string): Promise<string> {
    const handle = await this.io(ctx, `open ${p}`, () => ctx.fs.openRead(p));
    try {
      return await this.io(ctx, `read ${p}`, () => hashHandle(handle, Infinity));
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * The one write path of files_write and files_edit: a temp file created exclusively next to the target,
   * then renamed over it, so readers see the old or the new content and never a mix. A replaced file
   * keeps its permission bits; a new file is linked in without replacing anything that appeared meanwhile.
   */
  private async atomicWrite(ctx: Ctx, t: Target, data: Buffer, expectedSha: string | undefined, createParents: boolean): Promise<void> {
    const host = ctx.host.name;
    if (t.existing) {
      if (expectedSha) {
        const actual = await this.hashFile(ctx, t.path);
        if (actual !== expectedSha.toLowerCase()) throw this.staleHash(t.path, actual, expectedSha);
      }
    } else {
      if (expectedSha) {
        throw conflict(
          `${t.path} on host '${host}' does not exist, but expected_sha256 was given; it was deleted or moved since you read it (or the path is wrong). Nothing was written.`,
        );
      }
      if (t.missing.length > 1) {
        const firstMissing = posix.join(t.ancestor, t.missing[0]);
        if (!createParents) {
          throw notFound(
            'FILE_NOT_FOUND',
            `The directory ${firstMissing} does not exist on host '${host}'; pass create_parents: true, or create it with files_mkdir first.`,
          );
        }
        await this.makeDirs(ctx, t.ancestor, t.missing.slice(0, -1));
      }
    }
    const dir = posix.dirname(t.path);
    const temp = posix.join(dir, `.${posix.basename(t.path).slice(0, 64)}.${randomBytes(6).toString('hex')}.ght-tmp`);
    await this.io(ctx, `write ${t.path}`, () => ctx.fs.createFile(temp, data, t.existing ? t.existing.mode : undefined));
    try {
      await ctx.fs.rename(temp, t.path, t.existing !== null);
    } catch (err) {
      await ctx.fs.unlink(temp).catch(() => undefined);
      if (isFsError(err, 'EEXIST'))
        throw conflict(
          `${t.path} on host '${host}' was created by someone else while writing; nothing was written, read it and try again.`,
        );
      throw fsToAppError(err, host, `write ${t.path}`);
    }
  }

  /** mkdir -p below a resolved, checked ancestor; true when anything was created. */
  private async makeDirs(ctx: Ctx, ancestor: string, names: string[]): Promise<boolean> {
    let created = false;
    for (let i = 0; i < names.length; i++) {
      const p = posix.join(ancestor, ...names.slice(0, i + 1));
      try {
        await ctx.fs.mkdir(p);
        created = true;
      } catch (err) {
        if (!isFsError(err, 'EEXIST')) throw fsToAppError(err, ctx.host.name, `create the directory ${p}`);
        // Created meanwhile: fine if it is a real directory; anything else (a symlink included) is refused.
        const st: FileStats = await this.io(ctx, `create the directory ${p}`, () => ctx.fs.lstat(p));
        if (st.type !== 'directory')
          throw conflict(`${p} on host '${ctx.host.name}' already exists and is not a directory; choose another path.`);
      }
    }
    return created;
  }

  /**
   * Refuses a recursive delete that would take a credential or login file with it (a home under a root
   * of /home, a project holding .git-credentials), before anything is deleted.
   */
  private async assertNothingProtectedBelow(ctx: Ctx, dir: string): Promise<void> {
    const rules = ctx.jail.protectedPaths;
    if (rules.empty) return;
    const queue = [dir];
    let seen = 0;
    for (let next = 0; next < queue.length; next++) {
      const d = queue[next];
      const limit = FILES_LIMITS.searchMaxVisited - seen;
      const listing = await this.io(ctx, `list ${d}`, () => ctx.fs.readDir(d, limit));
      seen += listing.entries.length;
      if (listing.truncated || seen >= FILES_LIMITS.searchMaxVisited) {
        throw conflict(
          `${dir} on host '${ctx.host.name}' holds more than ${FILES_LIMITS.searchMaxVisited} entries, too many to check for credentials and login files before deleting; nothing was deleted: delete its subdirectories one by one.`,
        );
      }
      for (const e of listing.entries) {
        const child = posix.join(d, e.name);
        const m = rules.match(child);
        if (m) {
          throw forbidden(
            'PATH_PROTECTED',
            `${dir} on host '${ctx.host.name}' holds ${child}, a protected credential or login file ('${m.rule}'), so it is not deleted; nothing was deleted. Delete the other entries one by one; the list is the host's files_protected_paths setting (YAML config, or FILES_PROTECTED_PATHS).`,
          );
        }
        if (e.stats.type === 'directory') queue.push(child);
      }
      await yieldToEventLoop();
    }
  }

  /** Deletes a directory tree without following symlinks (a link is removed, its target left alone). */
  private async removeTree(ctx: Ctx, dir: string): Promise<number> {
    // The jail checked `dir` as a real directory; one swapped for a symlink since then is not descended into.
    const real = await this.io(ctx, `delete ${dir}`, () => ctx.fs.resolve(dir));
    if (real.path !== dir || real.stats.type !== 'directory') {
      throw conflict(
        `${dir} on host '${ctx.host.name}' changed while it was being deleted (it is no longer a plain directory); nothing below it was deleted, check it and try again.`,
      );
    }
    let count = 0;
    for (;;) {
      const listing = await this.io(ctx, `list ${dir}`, () => ctx.fs.readDir(dir, FILES_LIMITS.listMaxEntries));
      for (const e of listing.entries) {
        const child = posix.join(dir, e.name);
        if (e.stats.type === 'directory') count += await this.removeTree(ctx, child);
        else {
          await this.io(ctx, `delete ${child}`, () => ctx.fs.unlink(child));
          count++;
        }
      }
      if (!listing.truncated) break;
    }
    await this.io(ctx, `delete the directory ${dir}`, () => ctx.fs.rmdir(dir));
    return count + 1;
  }
}

/** SHA-256 of a file through an open handle, read in 1 MiB pieces (never the whole file in memory). */
async function hashHandle(handle: { read(position: number, length: number): Promise<Buffer> }, size: number): Promise<string> {
  const hash = createHash('sha256');
  for (let pos = 0; pos < size;) {
    const chunk = await handle.read(pos, MiB);
    if (chunk.length === 0) break;
    hash.update(chunk);
    pos += chunk.length;
  }
  return hash.digest('hex');
}
