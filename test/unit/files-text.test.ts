import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asText, decodeBase64, Glob, toPage } from '../../src/modules/files/text.js';

describe('toPage', () => {
  it('splits any text into pages that decode to the original, whatever the page size', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer({ min: 4, max: 17 }), (raw, pageSize) => {
        const s = raw.replace(/\0/g, ' ');
        const bytes = Buffer.from(s, 'utf8');
        let out = '';
        for (let off = 0; off < bytes.length;) {
          const chunk = bytes.subarray(off, off + pageSize);
          const page = toPage(chunk, off + chunk.length >= bytes.length);
          expect(page.encoding).toBe('utf-8');
          expect(page.length).toBeGreaterThan(0);
          out += page.content;
          off += page.length;
        }
        expect(out).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('toPage and asText', () => {
  it('gives text for UTF-8 and base64 for binary data', () => {
    expect(toPage(Buffer.from('FROM gemma:2b\n'), true)).toEqual({ content: 'FROM gemma:2b\n', encoding: 'utf-8', length: 14 });
    const bin = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(toPage(bin, true)).toEqual({ content: bin.toString('base64'), encoding: 'base64', length: 8 });
  });

  it('treats NUL bytes as binary', () => {
    expect(asText(Buffer.from('a\0b'))).toBeNull();
    expect(toPage(Buffer.from('a\0b'), true).encoding).toBe('base64');
  });

  it('ends a page before a split character and says how far it got', () => {
    const bytes = Buffer.from('ab€', 'utf8').subarray(0, 4); // a, b and 2 of the 3 bytes of €
    expect(toPage(bytes, false)).toEqual({ content: 'ab', encoding: 'utf-8', length: 2 });
  });

  it('gives base64 for a page that starts inside a character', () => {
    const bytes = Buffer.from('€ab', 'utf8').subarray(1);
    const page = toPage(bytes, true);
    expect(page.encoding).toBe('base64');
    expect(Buffer.from(page.content, 'base64')).toEqual(bytes);
  });

  it('gives base64 when the page is only part of one character', () => {
    const bytes = Buffer.from('😀').subarray(0, 2);
    expect(toPage(bytes, false)).toEqual({ content: bytes.toString('base64'), encoding: 'base64', length: 2 });
  });

  it('keeps a byte order mark', () => {
    expect(asText(Buffer.from('\ufeffx', 'utf8'))).toBe('\ufeffx');
  });

  it('returns an empty text page for an empty file', () => {
    expect(toPage(Buffer.alloc(0), true)).toEqual({ content: '', encoding: 'utf-8', length: 0 });
  });
});

describe('Glob', () => {
  const matches = (pattern: string, name: string) => Glob.compile(pattern)!.matches(name);

  it.each([
    ['*.gguf', 'gemma-2b.Q4_K_M.gguf', true],
    ['*.gguf', 'gemma.gguf.part', false],
    ['Modelfile*', 'Modelfile', true],
    ['Modelfile*', 'Modelfile.requirements-agent', true],
    ['Modelfile*', 'modelfile', false],
    ['config.y?ml', 'config.yaml', true],
    ['config.y?ml', 'config.yml', false],
    ['*', '.bashrc', true],
    ['[abc]*', 'backup', true],
    ['[!abc]*', 'backup', false],
    ['[^abc]*', 'dump', true],
    ['file[0-9].txt', 'file7.txt', true],
    ['file[0-9].txt', 'fileX.txt', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[]]', ']', true],
    ['[a-]', '-', true],
    ['*.$', 'x.$', true],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected);
  });

  it('refuses malformed patterns', () => {
    expect(Glob.compile('[abc')).toBeNull();
    expect(Glob.compile('abc\\')).toBeNull();
    expect(Glob.compile('[z-a]')).toBeNull();
  });

  it.each([
    ['[\\]]', ']', true],
    ['[a\\-z]', '-', true],
    ['[a\\-z]', 'm', false],
    ['?', 'é', true],
    ['?', '🙂', true],
    ['??', '🙂', false],
    ['[à-ü]*', 'éclair', true],
  ])('sets and whole characters: %s against %s is %s', (pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected);
  });

  /** The textbook dynamic programme over (pattern token, name position): slow but obviously right. */
  function reference(pattern: string, name: string): boolean {
    const p = Array.from(pattern);
    const n = Array.from(name);
    const memo = new Map<string, boolean>();
    const go = (i: number, j: number): boolean => {
      const key = `${i},${j}`;
      if (memo.has(key)) return memo.get(key)!;
      let r: boolean;
      if (i === p.length) r = j === n.length;
      else if (p[i] === '*') r = go(i + 1, j) || (j < n.length && go(i, j + 1));
      else r = j < n.length && (p[i] === '?' || p[i] === n[j]) && go(i + 1, j + 1);
      memo.set(key, r);
      return r;
    };
    return go(0, 0);
  }

  it('agrees with a reference matcher on random patterns of *, ? and letters', () => {
    const letters = fc.constantFrom('a', 'b', '.', 'é');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(letters, fc.constant('*'), fc.constant('?')), { maxLength: 12 }).map((a) => a.join('')),
        fc.array(letters, { maxLength: 14 }).map((a) => a.join('')),
        (pattern, name) => Glob.compile(pattern)!.matches(name) === reference(pattern, name),
      ),
      { numRuns: 3000 },
    );
  });

  it('matches backtracking patterns against long names in bounded time (a regex takes minutes)', () => {
    // The input that stalled the server: a pattern that a backtracking regex explores exponentially.
    const hostile = ['*a*a*a*a*a*a*a*a*a*aZ', '*'.repeat(127) + 'Z', '*?*?*?*?*?*?*?*?*?*?*?*?!', '*' + 'a*'.repeat(120) + 'b'];
    const names = [...Array.from({ length: 8 }, () => 'a'.repeat(150)), 'a'.repeat(255), 'ab'.repeat(127)];
    const started = performance.now();
    const results = hostile.flatMap((pattern) => names.map((name) => Glob.compile(pattern)!.matches(name)));
    // 40 matches of at most 255 × 255 steps each: milliseconds; the generous bound only catches a blow-up.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(results).toEqual(hostile.flatMap((pattern) => names.map((name) => reference(pattern, name))));
    expect(results.filter(Boolean)).toHaveLength(1); // 'ab' repeated ends in b and has the a's
  });
});

describe('decodeBase64', () => {
  it('decodes standard base64, padded or not, ignoring whitespace', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    const b64 = bytes.toString('base64');
    expect(decodeBase64(b64)).toEqual(bytes);
    expect(decodeBase64(b64.replace(/=+$/, ''))).toEqual(bytes);
    expect(decodeBase64(` ${b64.slice(0, 4)}\n${b64.slice(4)}\t`)).toEqual(bytes);
    expect(decodeBase64('')).toEqual(Buffer.alloc(0));
    expect(decodeBase64('aGk')).toEqual(Buffer.from('hi'));
  });

  it.each([
    ['a character outside the alphabet', 'aGk*'],
    ['URL-safe base64', '-_-_'],
    ['a lone trailing character', 'aGVsbG8'.slice(0, 5)],
    ['padding in the middle', 'aG==aGk='],
    ['too much padding', 'aGk==='],
    ['padding that does not complete a quad', 'aG='],
  ])('refuses %s, where Buffer.from would silently drop bytes', (_what, text) => {
    expect(decodeBase64(text)).toBeNull();
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodeBase64(Buffer.from(bytes).toString('base64'))).toEqual(Buffer.from(bytes));
      }),
    );
  });
});
