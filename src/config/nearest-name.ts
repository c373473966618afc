import { getMetadataStorage } from 'class-validator';

/**
 * The known name a mistyped one most likely meant, for "unknown field" messages (request input and the
 * YAML configuration). An abbreviation wins over a small edit ("cmd" is command, not cwd); otherwise the
 * closest name within a third of its length, so a name that resembles nothing gets no suggestion.
 */
export function nearestName(unknown: string, known: Iterable<string>): string | undefined {
  const word = normalize(unknown);
  if (!word) return undefined;
  const candidates = [...new Set(known)];
  const abbreviations = candidates
    .filter((name) => word.length >= 2 && normalize(name) !== word && isAbbreviation(word, normalize(name)))
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  if (abbreviations.length) return abbreviations[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of candidates) {
    const target = normalize(name);
    const distance = editDistance(word, target);
    const allowed = Math.max(1, Math.floor(Math.max(word.length, target.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

const declared = new WeakMap<object, ReadonlySet<string>>();

/**
 * The fields a class declares, the names an unknown one is compared with: every request DTO and YAML
 * section field carries at least one class-validator decorator. None for a plain object (a nested value
 * no class describes) or no class at all.
 */
export function declaredFields(cls: object | undefined): ReadonlySet<string> {
  if (!cls || cls === Object) return new Set();
  let fields = declared.get(cls);
  if (!fields) {
    fields = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(cls as new () => unknown, '', true, false)
        .map((m) => m.propertyName),
    );
    declared.set(cls, fields);
  }
  return fields;
}

const normalize = (name: string) => name.toLowerCase().replace(/-/g, '_');

/** Same first letter and every letter of `short` in order inside `long` ("cmd" in "command"). */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length >= long.length || short[0] !== long[0]) return false;
  let i = 0;
  for (const ch of long) if (ch === short[i]) i++;
  return i === short.length;
}

/** Levenshtein distance counting a swap of two neighbours as one edit ("comamnd"). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Infinity; // far apart anyway; keeps long input cheap
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
