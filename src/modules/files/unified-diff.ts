/**
 * A line-based unified diff (the format of `diff -u` and `git diff`), written here rather than taken from
 * a library because files_edit needs only this: Myers' O((N+M)·D) shortest edit script on the lines
 * between the common prefix and suffix, then hunks with 3 lines of context.
 *
 * Lines keep their terminator, so a last line without a newline differs from the same line with one and
 * is marked "\ No newline at end of file", as GNU diff does.
 *
 * The cost is bounded whatever the texts (files_edit diffs files of up to 10 MiB): the common prefix and
 * suffix are found on the characters, without splitting the unchanged part into lines; only the changed
 * middle is split, and when the minimal script would cost more than MAX_WORK steps the middle is shown as
 * one block of removals followed by one block of additions (still a correct diff that `patch` applies,
 * just not the smallest one). A middle larger than MAX_CHANGED_CHARS is not diffed at all: the answer is
 * one line saying which lines changed.
 */

export interface DiffOptions {
  /** Lines of context around each change (default 3). */
  context?: number;
  /** Name shown after `---` and `+++` (default "a" and "b"). */
  oldName?: string;
  newName?: string;
  /** Largest number of changed lines searched for a minimal script (default 2000). */
  maxEditDistance?: number;
}

/** Most steps (diagonals plus matched lines) spent searching for a minimal script. */
const MAX_WORK = 4_000_000;
/** Largest changed middle, old and new characters together, shown as a diff. */
const MAX_CHANGED_CHARS = 2 * 1024 * 1024;

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Splits text into lines that keep their "\n"; the last one has none when the text does not end with it. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const lines = parts.map((l, i) => (i < parts.length - 1 ? l + '\n' : l));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The unified diff turning `oldText` into `newText`, or '' when they are equal. Paths in the header are
 * `oldName`/`newName` without timestamps.
 */
export function unifiedDiff(oldText: string, newText: string, options: DiffOptions = {}): string {
  if (oldText === newText) return '';
  const context = options.context ?? 3;
  const oldName = options.oldName ?? 'a';
  const newName = options.newName ?? 'b';

  // The common prefix and suffix, in whole lines, found on the characters.
  const shorter = Math.min(oldText.length, newText.length);
  const p = commonLength(oldText, newText, shorter, false);
  const pre = p === 0 ? 0 : oldText.lastIndexOf('\n', p - 1) + 1;
  let suf = commonLength(oldText, newText, shorter - pre, true);
  const atLineStart = (text: string, at: number) => at === 0 || text.charCodeAt(at - 1) === 10;
  while (suf > 0 && !(atLineStart(oldText, oldText.length - suf) && atLineStart(newText, newText.length - suf))) suf--;
  const oldMid = oldText.slice(pre, oldText.length - suf);
  const newMid = newText.slice(pre, newText.length - suf);

  const firstLine = countNewlines(oldText, 0, pre) + 1;
  if (oldMid.length + newMid.length > MAX_CHANGED_CHARS) {
    const oldLines = countLines(oldMid);
    const newLines = countLines(newMid);
    return (
      `--- ${oldName}\n+++ ${newName}\n` +
      `(diff not shown: the change spans ${oldLines} line(s) from line ${firstLine}, which become ${newLines} line(s); ` +
      `too large to show as a diff, read the file to review it)\n`
    );
  }

  const before = lastLines(oldText, pre, context);
  const after = splitLines(oldText.slice(oldText.length - suf, nthLineEnd(oldText, oldText.length - suf, context)));
  const middle = editScript(splitLines(oldMid), splitLines(newMid), options.maxEditDistance ?? 2000, MAX_WORK);
  const ops: Op[] = [...before.map((line): Op => ({ kind: ' ', line })), ...middle, ...after.map((line): Op => ({ kind: ' ', line }))];
  const startLine = firstLine - before.length;
  let out = `--- ${oldName}\n+++ ${newName}\n`;
  for (const hunk of hunks(ops, context, startLine, startLine)) out += hunk;
  return out;
}

/**
 * Length of the common prefix (or suffix) of `a` and `b`, at most `max`. Compared a block at a time
 * first (a string comparison is a memory comparison), then character by character in the last block:
 * a loop over 10 MiB one character at a time holds the event loop for a tenth of a second.
 */
function commonLength(a: string, b: string, max: number, fromEnd: boolean): number {
  const part = (s: string, from: number, to: number) => (fromEnd ? s.slice(s.length - to, s.length - from) : s.slice(from, to));
  const BLOCK = 64 * 1024;
  let n = 0;
  while (n + BLOCK <= max && part(a, n, n + BLOCK) === part(b, n, n + BLOCK)) n += BLOCK;
  const at = (s: string, i: number) => s.charCodeAt(fromEnd ? s.length - 1 - i : i);
  while (n < max && at(a, n) === at(b, n)) n++;
  return n;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

const countLines = (text: string) => countNewlines(text, 0, text.length) + (text === '' || text.endsWith('\n') ? 0 : 1);

/** Up to `count` whole lines that end at `end` (a line start). */
function lastLines(text: string, end: number, count: number): string[] {
  let start = end;
  for (let i = 0; i < count && start > 0; i++) start = start >= 2 ? text.lastIndexOf('\n', start - 2) + 1 : 0;
  return splitLines(text.slice(start, end));
}

/** The position after `count` whole lines starting at `start` (or the end of the text). */
function nthLineEnd(text: string, start: number, count: number): number {
  let end = start;
  for (let i = 0; i < count && end < text.length; i++) {
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
  }
  return end;
}

function editScript(a: string[], b: string[], maxD: number, maxWork: number): Op[] {
  return myers(a, b, maxD, maxWork) ?? [...a.map((line): Op => ({ kind: '-', line })), ...b.map((line): Op => ({ kind: '+', line }))];
}

/**
 * Myers' greedy algorithm ("An O(ND) Difference Algorithm and Its Variations", 1986). `trace[d]` keeps
 * the furthest x reached on each diagonal k in [-d-1, d+1] before step d, which is all backtracking needs,
 * so memory is O(D²) rather than O((N+M)·D). Returns null when more than maxD edits would be needed, or
 * more than maxWork steps spent.
 */
function myers(a: string[], b: string[], maxD: number, maxWork: number): Op[] | null {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return null; // pure insertion or removal: the fallback block is already minimal
  const max = Math.min(n + m, maxD);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  v[off + 1] = 0;
  const trace: Int32Array[] = [];
  let work = 0;
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    work += 2 * d + 1;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      const snakeStart = x;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      work += x - snakeStart;
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, d);
    }
    if (work > maxWork) return null;
  }
  return null;
}

function backtrack(a: string[], b: string[], trace: Int32Array[], dEnd: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d >= 0; d--) {
    const snap = trace[d];
    // snap[i] is diagonal k = i - d - 1.
    const at = (k: number) => snap[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1] });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[prevY] });
      else ops.push({ kind: '-', line: a[prevX] });
      x = prevX;
      y = prevY;
    }
  }
  return ops.reverse();
}

function range(start: number, count: number): string {
  // GNU diff: an empty range names the line before it; a range of one line has no count.
  if (count === 0) return `${start - 1},0`;
  if (count === 1) return `${start}`;
  return `${start},${count}`;
}

function formatLine(op: Op): string {
  return op.line.endsWith('\n') ? `${op.kind}${op.line}` : `${op.kind}${op.line}\n\\ No newline at end of file\n`;
}

/** Hunks over `ops`, whose first op is at line `oldStart` of the old text and `newStart` of the new one. */
function* hunks(ops: Op[], context: number, oldStart: number, newStart: number): Generator<string> {
  const changes: number[] = [];
  ops.forEach((op, i) => op.kind !== ' ' && changes.push(i));
  // Old and new line numbers (1-based) of the op at each index.
  const oldNo = new Int32Array(ops.length + 1);
  const newNo = new Int32Array(ops.length + 1);
  oldNo[0] = oldStart;
  newNo[0] = newStart;
  ops.forEach((op, i) => {
    oldNo[i + 1] = oldNo[i] + (op.kind === '+' ? 0 : 1);
    newNo[i + 1] = newNo[i] + (op.kind === '-' ? 0 : 1);
  });
  let c = 0;
  while (c < changes.length) {
    const first = changes[c];
    let last = first;
    // Changes closer than two contexts share a hunk, so no context line is printed twice.
    while (c + 1 < changes.length && changes[c + 1] - last - 1 <= 2 * context) last = changes[++c];
    c++;
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length, last + context + 1);
    const oldCount = oldNo[to] - oldNo[from];
    const newCount = newNo[to] - newNo[from];
    let text = `@@ -${range(oldNo[from], oldCount)} +${range(newNo[from], newCount)} @@\n`;
    for (let i = from; i < to; i++) text += formatLine(ops[i]);
    yield text;
  }
}
