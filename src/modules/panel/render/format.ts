/** Escaping and number formats shared by every panel part. Pure. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value made safe for HTML: names come from remote hosts and registries. */
export const esc = (value: unknown): string => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** A number with at most `digits` decimals and thin grouping, or an en dash when unknown. */
export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Bytes in GB (10^9, as Ollama's own sizes are given) with one decimal. */
export const gb = (bytes: number | null | undefined): string => (bytes == null ? '–' : `${num(bytes / 1e9, 1)} GB`);

/** Percent of a whole clamped to 0-100, or null when the whole is unknown or zero. */
export function percentOf(part: number | null | undefined, whole: number | null | undefined): number | null {
  if (part == null || whole == null || !(whole > 0)) return null;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}

/** A bar for a percentage (0-100, clamped); an empty, labelled bar when unknown. */
export function bar(percent: number | null | undefined, label: string, kind = ''): string {
  const known = percent !== null && percent !== undefined && Number.isFinite(percent);
  const p = known ? Math.min(100, Math.max(0, percent)) : 0;
  const value = known ? ` aria-valuenow="${Math.round(p * 10) / 10}"` : '';
  const cls = kind || (p >= 90 ? 'hot' : p >= 70 ? 'warm' : '');
  return `<div class="bar ${cls}" role="progressbar" aria-label="${esc(label)}" aria-valuemin="0" aria-valuemax="100"${value}><span style="width:${p.toFixed(1)}%"></span></div>`;
}

/** "in 4 min", "in 35 s", "now"; "kept loaded" for Ollama's far-future keep-alive (a negative keep_alive). */
export function until(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return '–';
  const s = Math.round((at - now) / 1000);
  if (s > 365 * 86400) return 'kept loaded';
  if (s <= 0) return 'now';
  if (s < 90) return `in ${s} s`;
  if (s < 90 * 60) return `in ${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `in ${num(s / 3600, 1)} h`;
  return `in ${Math.round(s / 86400)} days`;
}

/** HH:MM:SS in UTC: the server and the viewer may be in different time zones, and the page says so. */
export const clock = (iso: string): string => `${iso.slice(11, 19)} UTC`;
