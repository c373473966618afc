/**
 * Ollama's model-name rule (types/model/name.go, `isValidPart` / `ParseNameBare`):
 *
 *   [host[:port]/][namespace/]model[:tag][@sha256:<64 hex>]
 *
 * - every part is 1–80 characters (the host up to 350);
 * - the first character of a part is a letter, a digit or `_`;
 * - later characters are letters, digits, `_`, `-` or `.`, except that a namespace may not contain `.`
 *   (which is why `hf.co/user/repo` parses as host/namespace/model and `hf.co/repo` is invalid);
 * - a host may carry a port (`registry.local:5000/team/model`);
 * - examples: `llama3.2`, `gemma:2b`, `myns/model:tag`, `hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M`.
 *
 * Ollama compares names case-insensitively; this rule only decides whether a string is a name at all.
 * Validating here (and not only at Ollama) keeps paths, shell syntax and oddities out of every request
 * body before it leaves the server, and gives the caller a precise 400 instead of Ollama's terse
 * `invalid model name`.
 */

const FIRST = 'A-Za-z0-9_';
const HOST = `[${FIRST}][${FIRST}.-]{0,349}(?::[0-9]{1,5})?`;
const NAMESPACE = `[${FIRST}][${FIRST}-]{0,79}`;
const PART = `[${FIRST}][${FIRST}.-]{0,79}`;
const DIGEST = '@sha256:[0-9a-f]{64}';

/**
 * The rule as an ECMAScript regular-expression source, anchored. Usable as is in class-validator
 * (`@Matches(new RegExp(MODEL_NAME_PATTERN))`) and as an OpenAPI / JSON Schema `pattern`
 * (no flags, no look-behind, no named groups).
 */
export const MODEL_NAME_PATTERN = `^(?:(?:${HOST}/)?${NAMESPACE}/)?${PART}(?::${PART})?(?:${DIGEST})?$`;

export const MODEL_NAME_REGEX = new RegExp(MODEL_NAME_PATTERN);

/** Longest string the pattern can match; a cheap bound for `@MaxLength` and OpenAPI `maxLength`. */
export const MODEL_NAME_MAX_LENGTH = 350 + 6 + 1 + 80 + 1 + 80 + 1 + 80 + 1 + 71;

/** One sentence for validation messages: what a model name looks like. */
export const MODEL_NAME_RULE =
  "an Ollama model name such as 'llama3.2', 'gemma:2b' or 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M': " +
  "[host/][namespace/]model[:tag], each part 1-80 characters starting with a letter, digit or '_' and " +
  "continuing with letters, digits, '_', '-' or '.' (no '.' in the namespace)";

export function isValidModelName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MODEL_NAME_MAX_LENGTH && MODEL_NAME_REGEX.test(name);
}

/**
 * Ollama's identity of a model name: case-insensitive, default tag `latest`, default registry and namespace
 * (`gemma:2b` = `registry.ollama.ai/library/gemma:2b`), so two spellings of one model share a job.
 */
export function modelIdentity(name: string): string {
  let rest = name.toLowerCase();
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  if (!(rest.lastIndexOf(':') > rest.lastIndexOf('/'))) rest += ':latest';
  const parts = rest.split('/').length;
  if (parts === 1) rest = `registry.ollama.ai/library/${rest}`;
  else if (parts === 2) rest = `registry.ollama.ai/${rest}`;
  return rest + digest;
}
