/**
 * files_search: a breadth-first walk below a checked directory, matching entry names against a glob,
 * bounded by results, entries looked at and time.
 */
import path from 'node:path';
import { yieldToEventLoop } from '../../common/async.js';
import { badRequest } from '../../common/errors.js';
import { countThatFit } from '../../common/result-budget.js';
import { isFsError, type DirListing } from '../../infra/files/file-system.js';
import { FILES_LIMITS, type FileEntry, type FilesSearchInput, type FilesSearchResult } from './dto/files.dto.js';
import { byName, toEntry, type FilesContext } from './files-context.js';
import { fsToAppError } from './files-errors.js';
import { Glob } from './text.js';

const posix = path.posix;

/** Directories listed at once: SFTP round trips overlap. */
const LISTINGS_IN_FLIGHT = 8;

export async function searchFiles(ctx: FilesContext, input: FilesSearchInput): Promise<FilesSearchResult> {
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
  // Breadth first, a few directories in flight: shallow matches come first.
  const queue = [dir.path];
  let next = 0;
  walk: while (next < queue.length) {
    if (Date.now() >= deadline) {
      stopped = 'time_limit';
      break;
    }
    const batch = queue.slice(next, next + LISTINGS_IN_FLIGHT);
    next += batch.length;
    const budget = FILES_LIMITS.searchMaxVisited - visited;
    const listings = await Promise.all(
      batch.map((d) =>
        ctx.fs.readDir(d, budget).catch((err: unknown): DirListing => {
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
      for (const e of [...listings[i].entries].sort(byName)) {
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
