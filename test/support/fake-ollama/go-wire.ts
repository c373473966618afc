/** Go-isms of the real server's wire format: timestamps, JSON escaping, decoder errors, Modelfile quoting. */
import { createHash } from 'node:crypto';

let nanoCounter = 0;

/**
 * Go's time.RFC3339Nano, trailing zeros trimmed: local time with its offset
 * (`2025-05-10T08:06:48.639712648-07:00`, what tags/ps/show use) or UTC with `Z` (generate's created_at).
 */
export function goTime(date: Date = new Date(), utc = false): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  nanoCounter = (nanoCounter + 104729) % 1_000_000;
  const [y, mo, d, h, mi, s, ms] = utc
    ? [
        date.getUTCFullYear(),
        date.getUTCMonth(),
        date.getUTCDate(),
        date.getUTCHours(),
        date.getUTCMinutes(),
        date.getUTCSeconds(),
        date.getUTCMilliseconds(),
      ]
    : [date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
  const frac = `${pad(ms, 3)}${pad(nanoCounter, 6)}`.replace(/0+$/, '');
  const offsetMin = utc ? 0 : -date.getTimezoneOffset();
  const zone =
    offsetMin === 0 ? 'Z' : `${offsetMin > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return `${y}-${pad(mo + 1)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac ? `.${frac}` : ''}${zone}`;
}

/** encoding/json escapes <, >, & (and U+2028/9) inside strings. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // number, string
}

/** What Go's json.Decoder says about text that is not JSON. */
export function goDecodeError(text: string): string {
  const trimmed = text.trimStart();
  const first = trimmed[0] ?? '';
  if (!/[{["\-0-9tfn]/.test(first)) return `invalid character '${first}' looking for beginning of value`;
  try {
    JSON.parse(text);
    return 'unexpected EOF';
  } catch (err) {
    const msg = (err as Error).message;
    if (/end of JSON|Unterminated|Unexpected end/i.test(msg)) return 'unexpected EOF';
    const pos = /position (\d+)/.exec(msg);
    const ch = pos ? text[Number(pos[1])] : undefined;
    return ch ? `invalid character '${ch}' looking for beginning of value` : 'unexpected EOF';
  }
}

/** Go's %v for a parameter value, and `PARAMETER` quoting (parser.go `quote`). */
export function goQuoteArg(s: string): string {
  if (s.includes('\n') || s.startsWith(' ') || s.endsWith(' ')) return s.includes('"') ? `"""${s}"""` : `"${s}"`;
  return s;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function fakeDigest(seed: string): string {
  return `sha256:${sha256Hex(seed)}`;
}
