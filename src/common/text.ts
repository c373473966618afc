/**
 * Small text helpers shared by every layer: cutting what we echo back into a message, escaping a literal
 * for a RegExp, the way durations read in messages, and where a byte buffer may be cut without splitting
 * a UTF-8 character.
 */

/** `text` cut to `max` characters, with `…` to show that something was cut. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `text` as a RegExp source that matches it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Milliseconds as messages say them: `30 s`, `2.5 s`. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * Length of the longest prefix of `bytes` that does not end inside a UTF-8 multi-byte sequence. A page
 * cut there decodes cleanly, and the next page starts on a character. Returns bytes.length when the end is
 * already a boundary (or the bytes are not UTF-8 at all: that is for a validity check to find).
 */
export function utf8Boundary(bytes: Uint8Array): number {
  const n = bytes.length;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the sequence's lead byte.
  let j = n - 1;
  while (j >= 0 && j >= n - 4 && (bytes[j]! & 0xc0) === 0x80) j--;
  if (j < 0 || j < n - 4) return n;
  const lead = bytes[j]!;
  if (lead >= 0xf8) return n;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - j < need ? j : n;
}

/** Index of the first byte of `bytes` that does not continue a sequence begun before `bytes`. */
export function utf8Start(bytes: Uint8Array): number {
  let i = 0;
  while (i < Math.min(3, bytes.length) && (bytes[i]! & 0xc0) === 0x80) i++;
  return i;
}
