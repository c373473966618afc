/**
 * files_edit's edit application, without I/O: each old_text must occur exactly once in the text as the
 * edits before it left it; the first that does not stops everything with a 409 saying which edit and
 * why, so nothing is ever half applied.
 */
import { yieldToEventLoop } from '../../common/async.js';
import { conflict } from '../../common/errors.js';
import { clip } from '../../common/text.js';
import { unifiedDiff } from './unified-diff.js';

export interface TextEdit {
  old_text: string;
  new_text: string;
}

export interface EditOutcome {
  /** The text with every edit applied. */
  text: string;
  /** Unified diff from the old text to the new, both named `path`. */
  diff: string;
  /** False when the edits left the text as it was. */
  changed: boolean;
}

/** An old_text as it is quoted in a message: one line, short. */
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

/**
 * Applies `edits` in order to `text` (the content of `path`, named in messages and the diff). Async only
 * to give the event loop a turn between edits: each copies a text of up to 10 MiB.
 */
export async function applyEdits(text: string, edits: readonly TextEdit[], path: string): Promise<EditOutcome> {
  let next = text;
  for (const [i, edit] of edits.entries()) {
    await yieldToEventLoop();
    const where = `edit ${i + 1} of ${edits.length} (old_text "${excerpt(edit.old_text)}")`;
    const at = next.indexOf(edit.old_text);
    if (at < 0) {
      const crlf = next.includes('\r\n') && edit.old_text.includes('\n') && !edit.old_text.includes('\r\n');
      throw conflict(
        `${where} was not found in ${path}${i > 0 ? ' after the edits before it' : ''}; copy the exact text from files_read, whitespace and line breaks included${crlf ? ' (this file uses CRLF line endings: write them as \\r\\n)' : ''}. Nothing was changed.`,
      );
    }
    const count = occurrences(next, edit.old_text);
    if (count > 1) {
      throw conflict(
        `${where} was found ${count} times in ${path}; include more of the surrounding lines in old_text so it matches exactly once. Nothing was changed.`,
      );
    }
    next = next.slice(0, at) + edit.new_text + next.slice(at + edit.old_text.length);
  }
  return { text: next, diff: unifiedDiff(text, next, { oldName: path, newName: path }), changed: next !== text };
}
