/**
 * Pure helpers for files_read pages and files_search patterns.
 */

/**
 * Length of the longest prefix of `bytes` that does not end inside a UTF-8 multi-byte sequence. A page
 * cut there decodes cleanly, and the next page starts on a character. Returns bytes.length when the end is
 * already a boundary (or the bytes are not UTF-8 at all: that is for the validity check to find).
 */
export function utf8Boundary(bytes: Uint8Array): number {
  const n = bytes.length;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the sequence's lead byte.
  let j = n - 1;
  while (j >= 0 && j >= n - 4 && (bytes[j] & 0xc0) === 0x80) j--;
  if (j < 0 || j < n - 4) return n;
  const lead = bytes[j];
  if (lead >= 0xf8) return n;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - j < need ? j : n;
}

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

/**
 * A glob-style name pattern as a RegExp over a single file name, like `find -name`: `*` any run of
 * characters (a leading dot included), `?` one character, `[abc]`, `[a-z]` and `[!abc]`/`[^abc]` one
 * character of (or not of) a set, `\` makes the next character literal. Case-sensitive. Null when the
 * pattern is malformed (an unclosed `[`).
 */
export function globToRegExp(pattern: string): RegExp | null {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) return null;
      re += escapeRe(pattern[i]);
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === '!' || pattern[j] === '^') {
        negate = true;
        j++;
      }
      let set = '';
      // A ']' right after the opening bracket is a member, as in POSIX.
      if (pattern[j] === ']') {
        set += '\\]';
        j++;
      }
      while (j < pattern.length && pattern[j] !== ']') {
        const ch = pattern[j];
        if (ch === '-' && set !== '' && pattern[j + 1] !== ']' && j + 1 < pattern.length) set += '-';
        else set += escapeClass(ch);
        j++;
      }
      if (j >= pattern.length) return null;
      re += `[${negate ? '^' : ''}${set}]`;
      i = j;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`, 's');
  } catch {
    // A range such as [z-a] is malformed.
    return null;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, '\\$&');
}
