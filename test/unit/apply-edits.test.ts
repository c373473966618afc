import { describe, expect, it } from 'vitest';
import { applyEdits } from '../../src/modules/files/apply-edits.js';
import { appErrorOfAsync } from '../support/errors.js';

const edit = (old_text: string, new_text: string) => ({ old_text, new_text });

describe('applyEdits', () => {
  it('replaces the one occurrence and returns the new text with its diff', async () => {
    const out = await applyEdits('FROM llama3\nPARAMETER temperature 0.8\n', [edit('temperature 0.8', 'temperature 0.6')], '/m/Modelfile');
    expect(out.text).toBe('FROM llama3\nPARAMETER temperature 0.6\n');
    expect(out.changed).toBe(true);
    expect(out.diff).toContain('--- /m/Modelfile\n+++ /m/Modelfile\n');
    expect(out.diff).toContain('-PARAMETER temperature 0.8\n+PARAMETER temperature 0.6\n');
  });

  it('applies edits in order, each to the text the one before left', async () => {
    const out = await applyEdits('a b c', [edit('a', 'x'), edit('x b', 'y'), edit('y', 'a')], 'f');
    expect(out.text).toBe('a c');
  });

  it('an edit that puts the text back is no change, with an empty diff', async () => {
    const out = await applyEdits('one\ntwo\n', [edit('one', '1'), edit('1', 'one')], 'f');
    expect(out).toEqual({ text: 'one\ntwo\n', diff: '', changed: false });
  });

  it('takes new_text literally: no $& or $1 substitution as String.replace would do', async () => {
    expect((await applyEdits('price: X', [edit('X', '$&$1$$')], 'f')).text).toBe('price: $&$1$$');
  });

  it('refuses an old_text that is not there with 409, naming the edit, and keeps nothing half applied', async () => {
    const e = await appErrorOfAsync(applyEdits('alpha\nbeta\n', [edit('alpha', 'ALPHA'), edit('gamma', 'x')], '/m/f'));
    expect([e.status, e.code]).toEqual([409, 'CONFLICT']);
    expect(e.message).toContain('edit 2 of 2 (old_text "gamma") was not found in /m/f after the edits before it');
    expect(e.message).toContain('Nothing was changed');
  });

  it("finds an earlier edit's old text gone once it was replaced", async () => {
    const e = await appErrorOfAsync(applyEdits('x = 1', [edit('x = 1', 'x = 2'), edit('x = 1', 'x = 3')], 'f'));
    expect(e.message).toContain('edit 2 of 2');
    expect(e.message).toContain('not found');
  });

  it('refuses an ambiguous old_text with 409 saying how many times it occurs', async () => {
    const e = await appErrorOfAsync(applyEdits('a=1\na=1\na=1\n', [edit('a=1', 'a=2')], 'f'));
    expect([e.status, e.code]).toEqual([409, 'CONFLICT']);
    expect(e.message).toContain('edit 1 of 1 (old_text "a=1") was found 3 times in f');
    expect(e.message).toContain('include more of the surrounding lines');
  });

  it('counts occurrences that do not overlap, and stops counting at 1000', async () => {
    // "aa" in "aaaa": two occurrences side by side, not three overlapping ones.
    expect((await appErrorOfAsync(applyEdits('aaaa', [edit('aa', 'b')], 'f'))).message).toContain('found 2 times');
    expect((await appErrorOfAsync(applyEdits('ab'.repeat(5000), [edit('ab', 'c')], 'f'))).message).toContain('found 1000 times');
  });

  it('counts a 1 MiB needle in 10 MiB of one letter within the test timeout (no rescan at every position)', async () => {
    const text = 'a'.repeat(10 * 1024 * 1024);
    const e = await appErrorOfAsync(applyEdits(text, [edit('a'.repeat(1024 * 1024), 'b')], 'f'));
    expect(e.message).toContain('found 10 times');
  });

  it('hints at CRLF when a multi-line old_text with LF misses a CRLF file', async () => {
    const e = await appErrorOfAsync(applyEdits('one\r\ntwo\r\n', [edit('one\ntwo', 'x')], 'f'));
    expect(e.message).toContain('this file uses CRLF line endings');
    // Quoted on one line, line breaks written out.
    expect(e.message).toContain('(old_text "one\\ntwo")');
    const lf = await appErrorOfAsync(applyEdits('one\ntwo\n', [edit('three\nfour', 'x')], 'f'));
    expect(lf.message).not.toContain('CRLF');
  });

  it('quotes a long old_text clipped, so a 1 MiB edit does not make a 1 MiB message', async () => {
    const e = await appErrorOfAsync(applyEdits('short', [edit('z'.repeat(1024 * 1024), 'x')], 'f'));
    expect(e.message.length).toBeLessThan(600);
  });

  it('keeps whole characters: edits on emoji and combining marks', async () => {
    const out = await applyEdits('café 🙂 naïve', [edit('🙂', '🚀'), edit('naïve', 'nai\u0308ve')], 'f');
    expect(out.text).toBe('café 🚀 nai\u0308ve');
  });
});
