import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BoundedOutput, omissionMarker } from '../../src/infra/output-buffer.js';

/** The obvious O(n) implementation, to compare the ring-buffer one against. */
function reference(chunks: Buffer[], cap: number) {
  const all = Buffer.concat(chunks);
  if (all.length <= cap) return { text: all.toString('utf8'), bytes: all.length, truncated: false };
  const headCap = Math.floor(cap / 2);
  const tailCap = cap - headCap;
  const head = all.subarray(0, headCap).toString('utf8');
  const tail = all.subarray(all.length - tailCap).toString('utf8');
  return { text: head + omissionMarker(all.length - cap) + tail, bytes: all.length, truncated: true };
}

describe('BoundedOutput', () => {
  it('keeps everything when the output fits', () => {
    const out = new BoundedOutput(100);
    out.write('hello ');
    out.write(Buffer.from('world'));
    expect(out.result()).toEqual({ text: 'hello world', bytes: 11, truncated: false });
  });

  it('keeps head and tail with an omission marker that counts the dropped bytes', () => {
    const out = new BoundedOutput(10);
    out.write('0123456789abcdefghij'); // 20 bytes, cap 10: head 5, tail 5
    expect(out.result()).toEqual({ text: '01234' + omissionMarker(10) + 'fghij', bytes: 20, truncated: true });
  });

  it('output exactly at the cap is not truncated', () => {
    const out = new BoundedOutput(10);
    out.write('01234');
    out.write('56789');
    expect(out.result()).toEqual({ text: '0123456789', bytes: 10, truncated: false });
  });

  it('a zero cap keeps nothing but still counts', () => {
    const out = new BoundedOutput(0);
    out.write('abc');
    expect(out.result()).toEqual({ text: omissionMarker(3), bytes: 3, truncated: true });
    expect(new BoundedOutput(0).result()).toEqual({ text: '', bytes: 0, truncated: false });
  });

  it('matches the reference for any sequence of chunks and any cap (ASCII)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n', 'x', 'y'), maxLength: 40 }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 64 }),
        (strings, cap) => {
          const chunks = strings.map((s) => Buffer.from(s));
          const out = new BoundedOutput(cap);
          for (const c of chunks) out.write(c);
          expect(out.result()).toEqual(reference(chunks, cap));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a single chunk larger than the cap keeps its own head and tail', () => {
    const out = new BoundedOutput(8);
    out.write('AB');
    out.write('0123456789'.repeat(10));
    expect(out.result().text).toBe('AB01' + omissionMarker(102 - 8) + '6789');
  });

  it('never splits a multi-byte character at the cut, counting trimmed bytes as omitted', () => {
    // "é" is 2 bytes; with cap 7 the head (3 bytes) would end in the middle of the second "é".
    const out = new BoundedOutput(7);
    out.write('éééééééééé'); // 20 bytes
    const r = out.result();
    expect(r.text).not.toContain('\uFFFD');
    expect(r.truncated).toBe(true);
    expect(r.bytes).toBe(20);
    const [head, tail] = r.text.split(/\n\[\.\.\. \d+ bytes omitted \.\.\.\]\n/);
    expect(head).toBe('é');
    expect(tail).toBe('éé');
    // 2 bytes of head + 4 of tail kept, 14 omitted.
    expect(r.text).toContain(omissionMarker(14));
  });

  it('memory stays O(cap) while gigabytes-class output streams through', () => {
    const cap = 64 * 1024;
    const out = new BoundedOutput(cap);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('START', 0);
    out.write(chunk);
    chunk.write('xxxxx', 0);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 4096; i++) out.write(chunk); // 256 MiB more
    out.write('END');
    const grown = process.memoryUsage().arrayBuffers - before;
    const r = out.result();
    expect(r.bytes).toBe(64 * 1024 * 4097 + 3);
    expect(r.truncated).toBe(true);
    expect(r.text.startsWith('START')).toBe(true);
    expect(r.text.endsWith('xxxEND')).toBe(true);
    expect(r.text.length).toBeLessThan(cap + 100);
    // Nothing written is retained: the loop reuses one chunk, so any growth would be the buffer's own.
    expect(grown).toBeLessThan(4 * cap);
  });
});
