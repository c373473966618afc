import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asText, globToRegExp, toPage, utf8Boundary } from '../../src/modules/files/text.js';

describe('utf8Boundary', () => {
  const euro = Buffer.from('€'); // e2 82 ac
  const emoji = Buffer.from('😀'); // f0 9f 98 80

  it('keeps ASCII and complete characters whole', () => {
    expect(utf8Boundary(Buffer.from('abc'))).toBe(3);
    expect(utf8Boundary(Buffer.concat([Buffer.from('a'), euro]))).toBe(4);
    expect(utf8Boundary(Buffer.concat([Buffer.from('a'), emoji]))).toBe(5);
    expect(utf8Boundary(Buffer.alloc(0))).toBe(0);
  });

  it('cuts before a character the page end splits', () => {
    for (let keep = 1; keep < euro.length; keep++) expect(utf8Boundary(Buffer.concat([Buffer.from('ab'), euro.subarray(0, keep)]))).toBe(2);
    for (let keep = 1; keep < emoji.length; keep++)
      expect(utf8Boundary(Buffer.concat([Buffer.from('ab'), emoji.subarray(0, keep)]))).toBe(2);
  });

  it('leaves invalid bytes for the validity check', () => {
    expect(utf8Boundary(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]))).toBe(5);
    expect(utf8Boundary(Buffer.from([0x61, 0xff]))).toBe(2);
  });

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

describe('globToRegExp', () => {
  const matches = (pattern: string, name: string) => globToRegExp(pattern)!.test(name);

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
    expect(globToRegExp('[abc')).toBeNull();
    expect(globToRegExp('abc\\')).toBeNull();
    expect(globToRegExp('[z-a]')).toBeNull();
  });
});
