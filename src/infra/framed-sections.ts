/**
 * Framed sections: one sh script runs several named parts in one exec (one SSH round trip) and frames each
 * part's output with marker lines, so the parser can split the output back into parts, each with its exit
 * status, and knows which part failed and whose words to quote:
 *
 *   @@gpu-host-tools:begin:<name>@@
 *   <what the part printed>
 *   @@gpu-host-tools:end:<name>:<exit status>@@
 *
 * The end line is printed with a newline in front, so it stands on a line of its own even after output
 * that lacks its last newline; the parser takes that newline away again. A part whose end line is missing
 * was cut off (killed, or the output truncated): its exit status is null.
 *
 * Reading it back: markers count only as whole lines, and sections are looked for in the order the script
 * runs them, each after the end of the one before, so marker text inside a value (a process name, a mount
 * point) or a begin line of an earlier part printed again later changes nothing. The markers are fixed
 * strings (the command is the same on every call), so a part that prints whole marker lines can end its
 * own section early and stand in for the parts after it; the parts framed here print CSV rows, /proc
 * files and df lines, one record per line.
 */

export const FRAME_MARK = '@@gpu-host-tools';

/** Part names: they go into the script unquoted, and into the marker lines. */
const PART_NAME = /^[a-z]+$/;

/** The line that opens a section (on stdout; with `stderr: 'framed'` also on stderr). */
export const frameBeginLine = (name: string): string => `${FRAME_MARK}:begin:${name}@@`;
/** The line that closes a section on stdout, carrying the part's exit status. */
export const frameEndLine = (name: string, exitStatus: number | string): string => `${FRAME_MARK}:end:${name}:${exitStatus}@@`;

export interface FramedPart {
  name: string;
  /** A POSIX sh command list. */
  command: string;
  /**
   * 'merged' (the default): the part's stderr is folded into its stdout section (`2>&1`), so a complaint is
   * read where the output would have been. 'framed': stderr stays a stream of its own, with the begin line
   * printed there too, and the part's exit status is left in `$r` for the script to branch on.
   */
  stderr?: 'merged' | 'framed';
}

/** The sh snippet that runs one part between its marker lines. */
export function framedPart(part: FramedPart): string {
  if (!PART_NAME.test(part.name)) throw new Error(`framed part name ${JSON.stringify(part.name)} is not lowercase letters`);
  const begin = `"${frameBeginLine(part.name)}"`;
  const end = `"\\n${frameEndLine(part.name, '%s')}\\n"`;
  if (part.stderr === 'framed') return `echo ${begin}; echo ${begin} >&2; ${part.command}; r=$?; printf ${end} "$r"`;
  return `echo ${begin}; { ${part.command}; } 2>&1; printf ${end} "$?"`;
}

/** The snippets of `parts`, one after the other. */
export function framedScript(parts: readonly FramedPart[]): string {
  return parts.map(framedPart).join('; ');
}

export interface FramedSection {
  /** What the part printed on stdout (with `stderr: 'merged'`, its stderr too). */
  stdout: string;
  /** What it printed on stderr ('' for merged parts). */
  stderr: string;
  /** null when the end line is missing: the script was cut off there. */
  exitCode: number | null;
}

interface Line {
  /** Index of its first character. */
  start: number;
  /** Index after its line break (or the text's length). */
  next: number;
}

/** The line at `at` when the `length` characters there are all of it (a CR before the LF allowed), else null. */
function wholeLineAt(text: string, at: number, length: number): Line | null {
  const after = at + length;
  if (at > 0 && text[at - 1] !== '\n') return null;
  if (after === text.length) return { start: at, next: after };
  if (text[after] === '\n') return { start: at, next: after + 1 };
  if (text[after] === '\r' && (after + 1 === text.length || text[after + 1] === '\n'))
    return { start: at, next: Math.min(after + 2, text.length) };
  return null;
}

/** The first line at or after `from` that is exactly `line`. */
function findLine(text: string, line: string, from: number): Line | null {
  for (let at = text.indexOf(line, from); at >= 0; at = text.indexOf(line, at + 1)) {
    const found = wholeLineAt(text, at, line.length);
    if (found !== null) return found;
  }
  return null;
}

/** The first whole end line of `name` at or after `from`, with the exit status it carries. */
function findEndLine(text: string, name: string, from: number): (Line & { exitCode: number }) | null {
  const prefix = `${FRAME_MARK}:end:${name}:`;
  for (let at = text.indexOf(prefix, from); at >= 0; at = text.indexOf(prefix, at + 1)) {
    // Exit statuses are 0-255: a longer number is not one the script printed.
    const status = /^(\d{1,3})@@/.exec(text.slice(at + prefix.length, at + prefix.length + 5));
    if (status === null) continue;
    const found = wholeLineAt(text, at, prefix.length + status[0].length);
    if (found !== null) return { ...found, exitCode: Number(status[1]) };
  }
  return null;
}

/** Where the first begin line of a part in `later` is, at or after `from`; else the end of the text. */
function nextBegin(text: string, later: readonly string[], from: number): number {
  let first = text.length;
  for (const name of later) {
    const line = findLine(text, frameBeginLine(name), from);
    if (line !== null && line.start < first) first = line.start;
  }
  return first;
}

/** Drops the line break in front of an end line (the one the script adds), and a CR before it. */
function beforeEndLine(text: string, start: number, endLineStart: number): string {
  let stop = Math.max(start, endLineStart - 1);
  if (stop > start && text[stop - 1] === '\r') stop--;
  return text.slice(start, stop);
}

/**
 * Split the output of a framed script back into its sections. `names` are the parts in the order the
 * script runs them; a part whose begin line is missing (the script skipped it, or never got there) has no
 * entry. A section without its end line runs to the next part's begin line, or to the end of the output.
 */
export function parseFramedSections(names: readonly string[], stdout: string, stderr = ''): Map<string, FramedSection> {
  const sections = new Map<string, FramedSection>();
  let outAt = 0;
  let errAt = 0;
  names.forEach((name, i) => {
    const later = names.slice(i + 1);
    const begin = findLine(stdout, frameBeginLine(name), outAt);
    if (begin === null) return;
    // +1: the script prints a line break before the end line, even after an empty section.
    const end = findEndLine(stdout, name, begin.next + 1);
    let text: string;
    if (end !== null) {
      text = beforeEndLine(stdout, begin.next, end.start);
      outAt = end.next;
    } else {
      outAt = nextBegin(stdout, later, begin.next);
      text = stdout.slice(begin.next, outAt);
    }
    let errText = '';
    const errBegin = findLine(stderr, frameBeginLine(name), errAt);
    if (errBegin !== null) {
      errAt = nextBegin(stderr, later, errBegin.next);
      errText = stderr.slice(errBegin.next, errAt);
    }
    sections.set(name, { stdout: text, stderr: errText, exitCode: end?.exitCode ?? null });
  });
  return sections;
}

/** `text` without the lines that are framing (marker lines a part's words are quoted without). */
export function withoutFrameLines(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((l) => !l.startsWith(FRAME_MARK))
    .join('\n');
}
