/**
 * Sizes of the answers a model gets without asking for a size. Open WebUI hands a tool's answer to the
 * model whole, so each default answer stays within the host's `results.default_max_bytes`; a caller
 * that asks for more (max_bytes, max_entries, max_results, max_output_bytes) gets up to the hard limits.
 */

/*
 * JSON is dense in tokens (~2.7 bytes per Llama 3 token for listings and logs, against ~4 for prose), so
 * the content of an answer takes only part of the budget: half for a files_read page (base64 adds a
 * third), two thirds for lists and shell output. A 12 KiB budget then gives answers of ~3,000 tokens.
 */

/** Default files_read page. */
export const defaultPageBytes = (budget: number) => Math.floor(budget / 2);

/** Default shell_exec cap per stream: stdout and stderr together stay within two thirds of the budget. */
export const defaultStreamBytes = (budget: number) => Math.floor(budget / 3);

/** The size of a value as the JSON of an answer. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** How many of `items` (in order) fit, as JSON, in the list share of a `budget`-byte answer. */
export function countThatFit(items: readonly unknown[], budget: number): number {
  const room = Math.floor((budget * 2) / 3);
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    used += jsonBytes(items[i]) + 1;
    if (used > room) return i;
  }
  return items.length;
}
