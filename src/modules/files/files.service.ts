/**
 * The files operations: each takes its paths through the host's jail (which also refuses protected
 * paths), then does its work through the host's FileSystem. The search, the write-side primitives and
 * the edit application live in their own files; what is here is the checks and the answers.
 */
import path from 'node:path';
import { Injectable } from '@nestjs/common';
import { badRequest, conflict, tooLarge } from '../../common/errors.js';
import { countThatFit, defaultPageBytes } from '../../common/result-budget.js';
import { isFsError } from '../../infra/files/file-system.js';
import { HostRegistry } from '../../infra/host-registry.js';
import {
  FILES_LIMITS,
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
import { applyEdits } from './apply-edits.js';
import { assertRegularFile, byName, hashHandle, io, isoTime, MiB, octal, sha256, toEntry, type FilesContext } from './files-context.js';
import { fsToAppError } from './files-errors.js';
import { searchFiles } from './files-search.js';
import { assertNothingProtectedBelow, atomicWrite, makeDirs, removeTree, staleHash } from './file-writes.js';
import { isInside, PathJail } from './path-jail.js';
import { ProtectedPaths } from './protected-paths.js';
import { asText, decodeBase64, toPage } from './text.js';

const posix = path.posix;

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
    const listing = await io(ctx, `list ${dir.path}`, () => ctx.fs.readDir(dir.path, FILES_LIMITS.listMaxEntries));
    const all = listing.entries.map((e) => toEntry(dir.path, e)).sort(byName);
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
    assertRegularFile(ctx, r.path, r.stats.type);
    const handle = await io(ctx, `open ${r.path}`, () => ctx.fs.openRead(r.path));
    try {
      const stats = handle.stats;
      // Checked again on the handle: this is what is actually read.
      assertRegularFile(ctx, r.path, stats.type);
      const size = stats.size;
      const offset = input.offset ?? 0;
      if (offset > size) {
        throw badRequest(
          `Invalid input: offset ${offset} is past the end of ${r.path} (${size} bytes); read from an offset between 0 and ${size}.`,
        );
      }
      const want = Math.min(input.max_bytes ?? defaultPageBytes(ctx.host.config.results.default_max_bytes), size - offset);
      const bytes = await io(ctx, `read ${r.path}`, () => handle.read(offset, want));
      const page = toPage(bytes, offset + bytes.length >= size);
      const end = offset + page.length;
      let hash: string | null = null;
      let note: string | undefined;
      if (size <= FILES_LIMITS.hashMaxBytes) {
        hash = offset === 0 && bytes.length === size ? sha256(bytes) : await io(ctx, `read ${r.path}`, () => hashHandle(handle, size));
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

  files_search(input: FilesSearchInput): Promise<FilesSearchResult> {
    return searchFiles(this.ctx(input.host), input);
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
    if (t.existing && t.existing.type !== 'file') assertRegularFile(ctx, t.path, t.existing.type);
    await atomicWrite(ctx, t, data, input.expected_sha256, input.create_parents ?? false);
    return { path: t.path, size_bytes: data.length, sha256: sha256(data), created: t.existing === null };
  }

  async files_edit(input: FilesEditInput): Promise<FilesEditResult> {
    const ctx = this.ctx(input.host);
    const r = await ctx.jail.existing(input.path);
    assertRegularFile(ctx, r.path, r.stats.type);
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
    if (input.expected_sha256 && input.expected_sha256.toLowerCase() !== current) throw staleHash(r.path, current, input.expected_sha256);

    const edited = await applyEdits(text, input.edits, r.path);
    if (input.dry_run || !edited.changed) return { path: r.path, diff: edited.diff, sha256: current, applied: false };
    const newBytes = Buffer.from(edited.text, 'utf8');
    if (newBytes.length > FILES_LIMITS.writeMaxBytes) {
      throw tooLarge(
        `The edited file would be ${(newBytes.length / MiB).toFixed(1)} MiB; files are limited to ${FILES_LIMITS.writeMaxBytes / MiB} MiB.`,
      );
    }
    // The hash was checked on the bytes the edits were applied to.
    await atomicWrite(ctx, { path: r.path, existing: r.stats, missing: [], ancestor: posix.dirname(r.path) }, newBytes, undefined, false);
    return { path: r.path, diff: edited.diff, sha256: sha256(newBytes), applied: true };
  }

  async files_mkdir(input: FilesMkdirInput): Promise<FilesMkdirResult> {
    const ctx = this.ctx(input.host);
    const t = await ctx.jail.target(input.path);
    if (t.existing) {
      if (t.existing.type === 'directory') return { path: t.path, created: false };
      throw conflict(`${t.path} on host '${ctx.host.name}' already exists and is not a directory; choose another name or delete it first.`);
    }
    const created = await makeDirs(ctx, t.ancestor, t.missing);
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
      await assertNothingProtectedBelow(ctx, e.path);
      count = await removeTree(ctx, e.path);
    } else {
      await io(ctx, `delete ${e.path}`, () => ctx.fs.unlink(e.path));
    }
    return { path: e.path, type, entries_deleted: count };
  }

  // -------------------------------------------------------------------------------------------------------

  private ctx(hostName?: string): FilesContext {
    const host = this.hosts.get(hostName);
    let jail = this.jails.get(host.name);
    if (!jail) {
      jail = new PathJail(host.files, host.config.files_root, host.name, new ProtectedPaths(host.config.files_protected_paths));
      this.jails.set(host.name, jail);
    }
    return { host, fs: host.files, jail };
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

  private async readWhole(ctx: FilesContext, p: string): Promise<Buffer> {
    const handle = await io(ctx, `open ${p}`, () => ctx.fs.openRead(p));
    try {
      assertRegularFile(ctx, p, handle.stats.type);
      // One byte more than the limit tells a file that grew since the check.
      const bytes = await io(ctx, `read ${p}`, () => handle.read(0, FILES_LIMITS.writeMaxBytes + 1));
      if (bytes.length > FILES_LIMITS.writeMaxBytes)
        throw tooLarge(`${p} is larger than ${FILES_LIMITS.writeMaxBytes / MiB} MiB; files_edit edits files up to that size.`);
      return bytes;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
}
