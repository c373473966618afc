/**
 * The write-side primitives under files_write, files_edit, files_mkdir and files_delete: the atomic
 * write, mkdir -p below a checked ancestor, and the recursive delete with its protected-path check.
 * Each acts on paths the jail has already checked.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { yieldToEventLoop } from '../../common/async.js';
import { AppError, conflict, forbidden, notFound } from '../../common/errors.js';
import { isFsError, type FileStats } from '../../infra/files/file-system.js';
import { FILES_LIMITS } from './dto/files.dto.js';
import { hashHandle, io, type FilesContext } from './files-context.js';
import { fsToAppError } from './files-errors.js';
import type { Target } from './path-jail.js';

const posix = path.posix;

/** 409 for an expected_sha256 that is not the file's any more. */
export function staleHash(p: string, actual: string, expected: string): AppError {
  return conflict(
    `${p} has changed: its sha256 is ${actual}, not the expected ${expected.toLowerCase()}; read it again (files_read) and redo the change on the current content.`,
  );
}

async function hashFile(ctx: FilesContext, p: string): Promise<string> {
  const handle = await io(ctx, `open ${p}`, () => ctx.fs.openRead(p));
  try {
    return await io(ctx, `read ${p}`, () => hashHandle(handle, Infinity));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The name of the temp file next to `target`: hidden, unique, and recognisable as ours. */
function tempNameFor(target: string): string {
  return posix.join(posix.dirname(target), `.${posix.basename(target).slice(0, 64)}.${randomBytes(6).toString('hex')}.ght-tmp`);
}

/**
 * The one write path of files_write and files_edit: a temp file created exclusively next to the target,
 * then renamed over it, so readers see the old or the new content and never a mix. A replaced file
 * keeps its permission bits; a new file is linked in without replacing anything that appeared meanwhile.
 */
export async function atomicWrite(
  ctx: FilesContext,
  t: Target,
  data: Buffer,
  expectedSha: string | undefined,
  createParents: boolean,
): Promise<void> {
  const host = ctx.host.name;
  if (t.existing) {
    if (expectedSha) {
      const actual = await hashFile(ctx, t.path);
      if (actual !== expectedSha.toLowerCase()) throw staleHash(t.path, actual, expectedSha);
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
      await makeDirs(ctx, t.ancestor, t.missing.slice(0, -1));
    }
  }
  const temp = tempNameFor(t.path);
  await io(ctx, `write ${t.path}`, () => ctx.fs.createFile(temp, data, t.existing ? t.existing.mode : undefined));
  try {
    await ctx.fs.rename(temp, t.path, t.existing !== null);
  } catch (err) {
    await ctx.fs.unlink(temp).catch(() => undefined);
    if (isFsError(err, 'EEXIST'))
      throw conflict(`${t.path} on host '${host}' was created by someone else while writing; nothing was written, read it and try again.`);
    throw fsToAppError(err, host, `write ${t.path}`);
  }
}

/** mkdir -p below a resolved, checked ancestor; true when anything was created. */
export async function makeDirs(ctx: FilesContext, ancestor: string, names: string[]): Promise<boolean> {
  let created = false;
  for (let i = 0; i < names.length; i++) {
    const p = posix.join(ancestor, ...names.slice(0, i + 1));
    try {
      await ctx.fs.mkdir(p);
      created = true;
    } catch (err) {
      if (!isFsError(err, 'EEXIST')) throw fsToAppError(err, ctx.host.name, `create the directory ${p}`);
      // Created meanwhile: fine if it is a real directory; anything else (a symlink included) is refused.
      const st: FileStats = await io(ctx, `create the directory ${p}`, () => ctx.fs.lstat(p));
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
export async function assertNothingProtectedBelow(ctx: FilesContext, dir: string): Promise<void> {
  const rules = ctx.jail.protectedPaths;
  if (rules.empty) return;
  const queue = [dir];
  let seen = 0;
  for (let next = 0; next < queue.length; next++) {
    const d = queue[next];
    const limit = FILES_LIMITS.searchMaxVisited - seen;
    const listing = await io(ctx, `list ${d}`, () => ctx.fs.readDir(d, limit));
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
export async function removeTree(ctx: FilesContext, dir: string): Promise<number> {
  // The jail checked `dir` as a real directory; one swapped for a symlink since then is not descended into.
  const real = await io(ctx, `delete ${dir}`, () => ctx.fs.resolve(dir));
  if (real.path !== dir || real.stats.type !== 'directory') {
    throw conflict(
      `${dir} on host '${ctx.host.name}' changed while it was being deleted (it is no longer a plain directory); nothing below it was deleted, check it and try again.`,
    );
  }
  let count = 0;
  for (;;) {
    const listing = await io(ctx, `list ${dir}`, () => ctx.fs.readDir(dir, FILES_LIMITS.listMaxEntries));
    for (const e of listing.entries) {
      const child = posix.join(dir, e.name);
      if (e.stats.type === 'directory') count += await removeTree(ctx, child);
      else {
        await io(ctx, `delete ${child}`, () => ctx.fs.unlink(child));
        count++;
      }
    }
    if (!listing.truncated) break;
  }
  await io(ctx, `delete the directory ${dir}`, () => ctx.fs.rmdir(dir));
  return count + 1;
}
