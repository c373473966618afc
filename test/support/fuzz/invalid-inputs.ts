/**
 * Invalid inputs generated from a schema (fast-check): wrong types, missing required fields, unknown fields,
 * values breaking a pattern / length / range / enum / format, huge and odd strings. Every input breaks the
 * schema at least once (checked with `conforms`), and the fields it leaves valid hold harmless base values.
 */
import fc from 'fast-check';
import { conforms, type Field, type Mode, type Schema } from './schema.js';

export const TRAVERSAL = [
  '../../etc/passwd',
  '../../../../../../../../etc/shadow',
  '/etc/passwd',
  '..',
  '../',
  '%2e%2e/%2e%2e/etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '..\\..\\..\\windows\\win.ini',
  '....//....//etc/passwd',
  '~/../../root/.ssh/id_ed25519',
  'a/../../b',
  '/proc/self/environ',
  'file:///etc/passwd',
  '\\\\server\\share',
];
const ODD = [
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  'x\ud83dy',
  '\u202eevil\u202c', // right-to-left override
  '\u200f\u200e', // RTL / LTR marks
  '\u2066x\u2069',
  'a\u0000b', // NUL
  '\u0000',
  '\ufeffbom',
  '\u200bzero-width',
  'e\u0301',
  '😀🎉',
  'a\r\nb',
  '\u2028\u2029',
  '／etc／passwd',
  'ＡＢＣ',
  '\u0085',
  '$(id)',
  '`id`',
  '; id #',
  '"\'<>&',
  '{{7*7}}',
  '%00',
  '%s%n',
  '\\',
  ' ',
  '',
];
const HUGE_JSON = ['A'.repeat(100_000), ODD.join('').repeat(Math.ceil(100_000 / ODD.join('').length))];
// A URL must stay under Node's 16 KiB header limit to reach the application at all (see the 431 test).
const HUGE_QUERY = ['A'.repeat(6_000)];

const hostile = (mode: Mode) => fc.constantFrom(...TRAVERSAL, ...ODD, ...(mode === 'json' ? HUGE_JSON : HUGE_QUERY));
const someString = (mode: Mode) =>
  fc.oneof(
    hostile(mode),
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).map((s) => '\ud800' + s),
  );

/** What the server sees of a query value: Node decodes a lone surrogate's WTF-8 bytes as three U+FFFD. */
const serverView = (v: unknown): unknown =>
  typeof v === 'string'
    ? v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\ufffd\ufffd\ufffd')
    : Array.isArray(v)
      ? v.map(serverView)
      : v;

/** A harmless value the schema accepts, for the fields an input does not break. */
export function baseValue(s: Schema): unknown {
  if (s.enum) return s.enum[0];
  if (s.anyOf) return baseValue(s.anyOf[0]);
  switch (s.type) {
    case 'string': {
      if (s.format === 'uuid') return '2b7e1516-28ae-4d2a-9f15-88095a4f1c3d';
      const candidates = ['fuzz-nonexistent', 'fuzz_nonexistent', 'fuzznonexistent', 'sha256:' + '0'.repeat(64), '0'.repeat(64), 'f'];
      const ok = candidates.find((c) => conforms(c, s));
      if (ok !== undefined) return ok;
      if (s.pattern) return fc.sample(fc.stringMatching(new RegExp(s.pattern)), { numRuns: 1, seed: 1 })[0];
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    }
    case 'number':
    case 'integer':
      return Math.min(Math.max(1, s.minimum ?? 1), s.maximum ?? 1);
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => baseValue(s.items ?? {}));
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k: string) => [k, baseValue(s.properties[k])]));
    default:
      return 'fuzz-nonexistent';
  }
}

/** Candidate values that are likely to break `s`; callers keep only the ones conforms() rejects. */
function breaking(s: Schema, mode: Mode, depth = 0): fc.Arbitrary<unknown> {
  if (mode === 'query') {
    const arbs: fc.Arbitrary<unknown>[] = [
      someString('query'),
      fc.array(
        someString('query').filter((x) => x !== ''),
        { minLength: 2, maxLength: 3 },
      ),
    ];
    if (s.type === 'string') {
      if (s.maxLength !== undefined && s.maxLength < 6_000)
        arbs.push(fc.integer({ min: 1, max: 200 }).map((k) => 'a'.repeat(s.maxLength + k)));
      if (s.minLength) arbs.push(fc.constant(''));
    }
    if (s.type === 'number' || s.type === 'integer') {
      arbs.push(
        fc
          .oneof(
            fc.double({ noNaN: true }),
            fc.integer({ min: -1e6, max: -1 }).map((k) => (s.minimum ?? 0) + k),
            fc.integer({ min: 1, max: 1e6 }).map((k) => (s.maximum ?? 0) + k),
            fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '0.5', '1.5e1x', 'true', 'null', '[]', '{}'),
          )
          .map(String),
      );
    }
    return fc.oneof(...arbs);
  }

  const json = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', maxDepth: 2 },
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ maxLength: 8 }),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const arbs: fc.Arbitrary<unknown>[] = [json, someString('json')];
  switch (s.type) {
    case 'string':
      if (s.maxLength !== undefined) arbs.push(fc.integer({ min: 1, max: 64 }).map((k) => 'a'.repeat(s.maxLength + k)));
      if (s.minLength) arbs.push(fc.constant(''));
      break;
    case 'number':
    case 'integer':
      arbs.push(
        fc.integer({ min: -1e6, max: -1 }).map((k) => (s.minimum ?? 0) + k),
        fc.integer({ min: 1, max: 1e6 }).map((k) => (s.maximum ?? 0) + k),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }).map((f) => (s.minimum ?? 0) + f),
        fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 'NaN', 'Infinity', '12abc', '0x', {}, { valueOf: 1 }, [1, 2]),
      );
      break;
    case 'array': {
      const item = s.items ?? {};
      if (s.minItems) arbs.push(fc.constant([]));
      if (s.maxItems !== undefined) arbs.push(fc.constant(Array.from({ length: s.maxItems + 1 }, () => baseValue(item))));
      if (depth < 2) {
        arbs.push(
          breaking(item, mode, depth + 1).map((bad) => [bad]),
          breaking(item, mode, depth + 1).map((bad) => [baseValue(item), bad]),
          fc.constant([[]]),
        );
      }
      break;
    }
    case 'object': {
      const props: Record<string, Schema> = s.properties ?? {};
      const base = baseValue(s) as Record<string, unknown>;
      const names = Object.keys(props);
      if ((s.required ?? []).length)
        arbs.push(
          fc.constantFrom(...(s.required as string[])).map((k) => Object.fromEntries(Object.entries(base).filter(([n]) => n !== k))),
        );
      if (names.length) arbs.push(unknownKey(names).chain((k) => json.map((v) => ({ ...base, [k]: v }))));
      if (names.length && depth < 2) {
        arbs.push(fc.constantFrom(...names).chain((k) => breaking(props[k]!, mode, depth + 1).map((v) => ({ ...base, [k]: v }))));
      }
      if (s.additionalProperties && typeof s.additionalProperties === 'object' && depth < 2) {
        arbs.push(
          fc
            .tuple(
              fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in Object.prototype)),
              breaking(s.additionalProperties, mode, depth + 1),
            )
            .map(([k, v]) => ({ [k]: v })),
        );
      }
      break;
    }
  }
  return fc.oneof(...arbs);
}

/**
 * A key the schema does not declare. Names of Object.prototype members (constructor, __proto__, toString)
 * are left to a test of their own below, so a failure there is reported as what it is.
 */
const unknownKey = (known: string[]) =>
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.constantFrom('HOST', 'Host', 'path ', 'command\u0000', '../x', 'a b', '$where', '__class__', 'x[y]'),
    )
    .filter((k) => !known.includes(k) && !(k in Object.prototype) && k.trim() !== '');

/** Fields for which no invalid value could be generated (the test of the spec's coverage lists them). */
export const unbreakable = new Set<string>();

interface Input {
  values: Record<string, unknown>;
  /** What the input breaks, for failure messages. */
  broken: string[];
}

/** Inputs for the given fields that break the schema at least once. `mode(f)` says how a field travels. */
export function invalidInput(fields: Field[], modeOf: (f: Field) => Mode, extraMode: Mode): fc.Arbitrary<Input> {
  const base: Record<string, unknown> = Object.fromEntries(fields.filter((f) => f.required).map((f) => [f.name, baseValue(f.schema)]));
  // Optional free-text fields with the hostile values their schema accepts (none for a field with a pattern).
  const hostileFits = fields
    .filter((f) => !f.required && f.schema.type === 'string' && f.in !== 'path')
    .map((f) => {
      const mode = modeOf(f);
      const fits = [...TRAVERSAL, ...ODD, ...(mode === 'json' ? HUGE_JSON : HUGE_QUERY)].filter((v) =>
        conforms(mode === 'query' ? serverView(v) : v, f.schema),
      );
      return { f, fits };
    })
    .filter(({ fits }) => fits.length > 0);
  const names = fields.map((f) => f.name);

  type Mutation = { field?: string; key?: string; value?: unknown; del?: boolean; what: string };
  const mutations: fc.Arbitrary<Mutation>[] = [];
  for (const f of fields) {
    const mode = modeOf(f);
    const breaks = (v: unknown) => {
      if (v === null && !f.required) return false; // null = absent for an optional field
      if (f.in === 'path' && (typeof v !== 'string' || ['', '.', '..'].includes(v))) return false; // would be another route
      return !conforms(mode === 'query' ? serverView(v) : v, f.schema);
    };
    // fast-check's filter retries forever: only use it where breaking values are not rare.
    if (fc.sample(breaking(f.schema, mode), { numRuns: 200, seed: 42 }).filter(breaks).length >= 10) {
      mutations.push(
        breaking(f.schema, mode)
          .filter(breaks)
          .map((value) => ({ field: f.name, value, what: `${f.name}=${preview(value)}` })),
      );
    } else {
      unbreakable.add(`${f.name} (${mode})`);
    }
    if (f.required && f.in !== 'path') mutations.push(fc.constant({ field: f.name, del: true, what: `missing ${f.name}` }));
  }
  mutations.push(
    fc
      .tuple(unknownKey(names), extraMode === 'json' ? breaking({}, 'json') : someString('query'))
      .map(([key, value]) => ({ key, value, what: `unknown field ${JSON.stringify(key)}` })),
  );

  return fc
    .record({
      // Valid-typed but hostile values for optional free-text fields (traversal, odd Unicode, 100 KB).
      extras: fc
        .subarray(hostileFits)
        .chain((chosen) => fc.tuple(...chosen.map(({ f, fits }) => fc.constantFrom(...fits).map((v) => [f.name, v] as const)))),
      muts: fc.array(fc.oneof(...mutations), { minLength: 1, maxLength: 2 }),
    })
    .map(({ extras, muts }) => {
      const values: Record<string, unknown> = { ...base, ...Object.fromEntries(extras) };
      for (const m of muts) {
        if (m.del) delete values[m.field!];
        else if (m.field) values[m.field] = m.value;
        else values[m.key!] = m.value;
      }
      return { values, broken: muts.map((m) => m.what) };
    });
}

export function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 60)}…(${s.length} chars)` : s;
}
