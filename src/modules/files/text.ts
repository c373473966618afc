/**
 * Pure helpers for files_read pages, files_write's base64 content and files_search patterns.
 */
import { utf8Boundary } from '../../common/text.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The bytes as text when they are valid UTF-8 without NUL bytes (a NUL is the usual mark of a binary
 * file, as git and grep treat it), else null.
 */
export function asText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

export interface Page {
  content: string;
  encoding: 'utf-8' | 'base64';
  /** Bytes of the file the page covers (what next_offset advances by). */
  length: number;
}

/**
 * One page of a file as JSON-safe content. `atEnd` says the bytes reach the end of the file; otherwise a
 * character cut by the page end is left for the next page (up to 3 bytes shorter). Bytes that are not
 * UTF-8 text (including a page starting inside a character) come back as base64, whole.
 */
export function toPage(bytes: Buffer, atEnd: boolean): Page {
  const cut = atEnd ? bytes.length : utf8Boundary(bytes);
  if (cut > 0 || bytes.length === 0) {
    const text = asText(bytes.subarray(0, cut));
    if (text !== null) return { content: text, encoding: 'utf-8', length: cut };
  }
  return { content: bytes.toString('base64'), encoding: 'base64', length: bytes.length };
}

/** Strict base64 (padding optional, whitespace ignored), or null. No grouped regex: content is up to 14 MB. */
export function decodeBase64(content: string): Buffer | null {
  const compact = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return null;
  if (compact.endsWith('=') && compact.length % 4 !== 0) return null;
  return Buffer.from(compact, 'base64');
}

type GlobToken =
  { kind: 'star' } | { kind: 'any' } | { kind: 'char'; cp: number } | { kind: 'set'; negate: boolean; ranges: Array<[number, number]> };

/**
 * A compiled name pattern, like `find -name`: `*` any run of characters (a leading dot included), `?` one
 * character, `[abc]`, `[a-z]` and `[!abc]`/`[^abc]` one character of (or not of) a set, `\` makes the next
 * character literal (inside a set too). Case-sensitive, on whole characters (code points).
 *
 * Matching never builds a RegExp from the caller's text: a pattern such as `*a*a*a*a*a*aZ` makes a
 * backtracking regex engine exponential. Only the last `*` is ever returned to, so a match costs at most
 * (pattern length × name length) steps.
 */
export class Glob {
  private constructor(
    private readonly tokens: GlobToken[],
    /** Characters a name needs at least (every token but `*` takes one). */
    private readonly minLength: number,
  ) {}

  /** Null when the pattern is malformed (an unclosed `[`, a trailing `\`, a reversed range such as `[z-a]`). */
  static compile(pattern: string): Glob | null {
    const cps = Array.from(pattern, (c) => c.codePointAt(0)!);
    const tokens: GlobToken[] = [];
    const BACKSLASH = 0x5c;
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i];
      if (c === 0x2a /* * */) {
        if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
      } else if (c === 0x3f /* ? */) tokens.push({ kind: 'any' });
      else if (c === BACKSLASH) {
        if (++i >= cps.length) return null;
        tokens.push({ kind: 'char', cp: cps[i] });
      } else if (c === 0x5b /* [ */) {
        let j = i + 1;
        const negate = cps[j] === 0x21 /* ! */ || cps[j] === 0x5e; /* ^ */
        if (negate) j++;
        const ranges: Array<[number, number]> = [];
        // A ']' right after the opening bracket is a member, as in POSIX.
        let first = true;
        for (; j < cps.length && (first || cps[j] !== 0x5d); first = false) {
          let lo = cps[j++];
          if (lo === BACKSLASH && j < cps.length) lo = cps[j++];
          let hi = lo;
          // "a-z" is a range; a '-' first or last in the set is itself.
          if (cps[j] === 0x2d && j + 1 < cps.length && cps[j + 1] !== 0x5d) {
            hi = cps[j + 1];
            j += 2;
            if (hi === BACKSLASH && j < cps.length) hi = cps[j++];
            if (hi < lo) return null;
          }
          ranges.push([lo, hi]);
        }
        if (j >= cps.length) return null;
        tokens.push({ kind: 'set', negate, ranges });
        i = j;
      } else tokens.push({ kind: 'char', cp: c });
    }
    return new Glob(
      tokens,
      tokens.reduce((n, t) => n + (t.kind === 'star' ? 0 : 1), 0),
    );
  }

  matches(name: string): boolean {
    const cps = Array.from(name, (c) => c.codePointAt(0)!);
    if (cps.length < this.minLength) return false;
    const tokens = this.tokens;
    let t = 0;
    let n = 0;
    // Where the last `*` was and how many characters it has taken so far.
    let starT = -1;
    let starN = 0;
    while (t < tokens.length || n < cps.length) {
      if (t < tokens.length) {
        const tok = tokens[t];
        if (tok.kind === 'star') {
          starT = t++;
          starN = n;
          continue;
        }
        if (n < cps.length && matchesOne(tok, cps[n])) {
          t++;
          n++;
          continue;
        }
      }
      // A mismatch: let the last `*` take one more character, or fail. Earlier stars never need to
      // take more, since whatever they could take the last one can take as well.
      if (starT < 0 || starN >= cps.length) return false;
      t = starT + 1;
      n = ++starN;
    }
    return true;
  }
}

function matchesOne(tok: Exclude<GlobToken, { kind: 'star' }>, cp: number): boolean {
  if (tok.kind === 'any') return true;
  if (tok.kind === 'char') return tok.cp === cp;
  let inSet = false;
  for (const [lo, hi] of tok.ranges) {
    if (cp >= lo && cp <= hi) {
      inSet = true;
      break;
    }
  }
  return inSet !== tok.negate;
}
