import { describe, expect, it } from 'vitest';
import { countThatFit, defaultPageBytes, defaultStreamBytes } from '../../src/common/result-budget.js';

describe('result budget', () => {
  it('keeps the content of a default answer well inside the budget', () => {
    expect(defaultPageBytes(12 * 1024)).toBe(6 * 1024);
    expect(defaultStreamBytes(12 * 1024)).toBe(4 * 1024);
    // base64 of a default page still fits
    expect(Math.ceil(defaultPageBytes(12 * 1024) / 3) * 4).toBeLessThan(12 * 1024);
  });

  it('counts the items that fit in two thirds of the budget, in order', () => {
    const item = { name: 'x'.repeat(98) }; // 109 bytes of JSON, 110 with the comma
    expect(countThatFit(Array(1000).fill(item), 12 * 1024)).toBe(Math.floor(8192 / 110));
    expect(countThatFit([], 12 * 1024)).toBe(0);
    expect(countThatFit([item, item], 12 * 1024)).toBe(2);
    // One item larger than the room: none fit (the caller says so and how to ask for it).
    expect(countThatFit([{ big: 'y'.repeat(20_000) }, item], 12 * 1024)).toBe(0);
  });

  it('counts multi-byte text by its UTF-8 bytes', () => {
    const euro = { s: '€'.repeat(100) }; // 300 bytes of UTF-8
    expect(countThatFit(Array(100).fill(euro), 12 * 1024)).toBe(Math.floor(8192 / (300 + 8 + 1)));
  });
});
