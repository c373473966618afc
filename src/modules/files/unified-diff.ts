/**
 * A line-based unified diff (the format of `diff -u` and `git diff`), written here rather than taken from
 * a library because files_edit needs only this: Myers' O((N+M)·D) shortest edit script on the lines
 * between the common prefix and suffix, then hunks with 3 lines of context.
 *
 * Lines keep their terminator, so a last line without a newline differs from the same line with one and
 * is marked "\ No newline at end of file", as GNU diff does. When the two texts differ in more than
 * `maxEditDistance` lines the minimal script would cost too much time and memory; the changed middle is
 * then shown as one block of removals followed by one block of additions: still a correct diff that
 * `patch` applies, just not the smallest one.
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
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const ops = editScript(a, b, options.maxEditDistance ?? 2000);
  let out = `--- ${options.oldName ?? 'a'}\n+++ ${options.newName ?? 'b'}\n`;
  for (const hunk of hunks(ops, context)) out += hunk;
  return out;
}

function editScript(a: string[], b: string[], maxD: number): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const middle = myers(midA, midB, maxD) ?? [
    ...midA.map((line): Op => ({ kind: '-', line })),
    ...midB.map((line): Op => ({ kind: '+', line })),
  ];
  return [
    ...a.slice(0, start).map((line): Op => ({ kind: ' ', line })),
    ...middle,
    ...a.slice(endA).map((line): Op => ({ kind: ' ', line })),
  ];
}

/**
 * Myers' greedy algorithm ("An O(ND) Difference Algorithm and Its Variations", 1986). `trace[d]` keeps
 * the furthest x reached on each diagonal k in [-d-1, d+1] before step d, which is all backtracking needs,
 * so memory is O(D²) rather than O((N+M)·D). Returns null when more than maxD edits would be needed.
 */
function myers(a: string[], b: string[], maxD: number): Op[] | null {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return null; // pure insertion or removal: the fallback block is already minimal
  const max = Math.min(n + m, maxD);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  v[off + 1] = 0;
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, d);
    }
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

function* hunks(ops: Op[], context: number): Generator<string> {
  const changes: number[] = [];
  ops.forEach((op, i) => op.kind !== ' ' && changes.push(i));
  // Old and new line numbers (1-based) of the op at each index.
  const oldNo = new Int32Array(ops.length + 1);
  const newNo = new Int32Array(ops.length + 1);
  oldNo[0] = newNo[0] = 1;
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
