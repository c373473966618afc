/** Model names: a port of Ollama's types/model/name.go (ParseNameBare + isValidPart), independent of src/. */

export interface ParsedName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

const MISSING = '!MISSING!';

function cutPromised(s: string, sep: string): [string, string, boolean] {
  const i = s.lastIndexOf(sep);
  if (i < 0) return [s, '', false];
  return [s.slice(0, i) || MISSING, s.slice(i + sep.length) || MISSING, true];
}

function isValidPart(kind: 'host' | 'namespace' | 'model' | 'tag', s: string): boolean {
  const max = kind === 'host' ? 350 : 80;
  if (s.length < 1 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    const alnum = /[A-Za-z0-9_]/.test(c);
    if (i === 0) {
      if (!alnum) return false;
      continue;
    }
    if (c === '-' || alnum) continue;
    if (c === '.' && kind !== 'namespace') continue;
    if (c === ':' && kind === 'host') continue;
    return false;
  }
  return true;
}

/** Parses and fills defaults; undefined when Ollama would say "invalid model name". */
export function parseModelName(input: string): ParsedName | undefined {
  let s = input;
  // A digest suffix is accepted and ignored, like Ollama's model reference parser.
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    if (!/^sha256[:-][0-9a-f]{64}$/.test(s.slice(at + 1))) return undefined;
    s = s.slice(0, at);
  }
  const n = { host: '', namespace: '', model: '', tag: '' };
  if (s.lastIndexOf(':') > s.lastIndexOf('/')) [s, n.tag] = cutPromised(s, ':');
  let promised: boolean;
  [s, n.model, promised] = cutPromised(s, '/');
  if (!promised) n.model = s;
  else {
    [s, n.namespace, promised] = cutPromised(s, '/');
    if (!promised) n.namespace = s;
    else n.host = s.includes('://') ? (s.split('://')[1] as string) : s;
  }
  const filled: ParsedName = {
    host: n.host || 'registry.ollama.ai',
    namespace: n.namespace || 'library',
    model: n.model,
    tag: n.tag || 'latest',
  };
  if (
    !isValidPart('host', filled.host) ||
    !isValidPart('namespace', filled.namespace) ||
    !isValidPart('model', filled.model) ||
    !isValidPart('tag', filled.tag)
  ) {
    return undefined;
  }
  return filled;
}

/** Case-insensitive identity of a model (Ollama compares names with EqualFold). */
export function modelKey(name: string): string | undefined {
  const p = parseModelName(name);
  return p ? `${p.host}/${p.namespace}/${p.model}:${p.tag}`.toLowerCase() : undefined;
}

/** Ollama's "shortest display" form: `llama3.2:latest`, `myns/m:tag`, `hf.co/u/r:Q4_K_M`. */
export function displayName(name: string): string {
  const p = parseModelName(name);
  if (!p) throw new Error(`invalid model name ${name}`);
  if (p.host.toLowerCase() !== 'registry.ollama.ai') return `${p.host}/${p.namespace}/${p.model}:${p.tag}`;
  if (p.namespace.toLowerCase() !== 'library') return `${p.namespace}/${p.model}:${p.tag}`;
  return `${p.model}:${p.tag}`;
}
