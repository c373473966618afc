import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clip, escapeRegExp, formatSeconds, utf8Boundary, utf8Start } from '../../src/common/text.js';

describe('clip', () => {
  it('keeps text up to the limit and marks a cut with …', () => {
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('abc…');
    expect(clip('', 0)).toBe('');
  });
});

describe('escapeRegExp', () => {
  it('makes any text match only itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 5 }), (text, other) => {
        const re = new RegExp(`^${escapeRegExp(text)}$`, 'u');
        expect(re.test(text)).toBe(true);
        if (other !== text) expect(re.test(other)).toBe(false);
      }),
      { numRuns: 500 },
    );
    expect(escapeRegExp('a.b*c?[d]')).toBe('a\\.b\\*c\\?\\[d\\]');
  });
});

describe('formatSeconds', () => {
  it('says whole seconds without decimals and others with one', () => {
    expect(formatSeconds(30_000)).toBe('30 s');
    expect(formatSeconds(2_500)).toBe('2.5 s');
    expect(formatSeconds(1_234)).toBe('1.2 s');
  });
});

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
});

describe('utf8Start', () => {
  it('skips the continuation bytes of a character begun before the buffer', () => {
    const emoji = Buffer.from('😀');
    for (let skip = 1; skip < emoji.length; skip++) {
      const tail = Buffer.concat([emoji.subarray(skip), Buffer.from('ab')]);
      expect(utf8Start(tail)).toBe(emoji.length - skip);
      expect(tail.subarray(utf8Start(tail)).toString('utf8')).toBe('ab');
    }
    expect(utf8Start(Buffer.from('abc'))).toBe(0);
    expect(utf8Start(Buffer.alloc(0))).toBe(0);
  });
});
