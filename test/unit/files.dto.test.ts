/**
 * The path fields of the files DTOs (src/modules/files/dto/files.dto.ts): every one is checked the same
 * way, with messages that name the field, before the jail sees it.
 */
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { validateInput } from '../../src/common/validation.js';
import * as dto from '../../src/modules/files/dto/files.dto.js';
import { appErrorOfAsync } from '../support/errors.js';

/** Each path field, its input class, and the other fields the class needs to be valid. */
const PATH_FIELDS = [
  ['FilesListInput', 'path', {}, true],
  ['FilesReadInput', 'path', {}, false],
  ['FilesStatInput', 'path', {}, false],
  ['FilesSearchInput', 'path', { pattern: '*' }, true],
  ['FilesWriteInput', 'path', { content: 'x' }, false],
  ['FilesEditInput', 'path', { edits: [{ old_text: 'a', new_text: 'b' }] }, false],
  ['FilesMkdirInput', 'path', {}, false],
  ['FilesMoveInput', 'from', { to: 'b' }, false],
  ['FilesMoveInput', 'to', { from: 'a' }, false],
  ['FilesDeleteInput', 'path', {}, false],
] as const;

type InputClass = new () => object;
const classOf = (name: (typeof PATH_FIELDS)[number][0]) => dto[name] as unknown as InputClass;

describe.each(PATH_FIELDS)('%s.%s', (cls, field, rest, optional) => {
  const check = (value: unknown) => validateInput(classOf(cls), { ...rest, [field]: value });
  const message = async (value: unknown) => (await appErrorOfAsync(check(value))).message;

  it('accepts a path up to 4096 characters, any text but NUL', async () => {
    await expect(check('a/../b c/~/é🙂\\*?[')).resolves.toMatchObject({ [field]: 'a/../b c/~/é🙂\\*?[' });
    await expect(check('x'.repeat(4096))).resolves.toBeTruthy();
  });

  it('refuses a NUL byte, naming the field', async () => {
    expect(await message('notes\0/../../etc/passwd')).toBe(`Invalid input: ${field}: must not contain NUL bytes.`);
  });

  it('refuses a path over 4096 characters', async () => {
    expect(await message('x'.repeat(4097))).toBe(`Invalid input: ${field}: must be shorter than or equal to 4096 characters.`);
  });

  it('refuses what is not a string with every rule it breaks, in the same order', async () => {
    expect(await message(42)).toBe(
      `Invalid input: ${field}: must not contain NUL bytes; ${field}: must be shorter than or equal to 4096 characters; ${field}: must be a string.`,
    );
    expect(await message(['a'])).toContain(`${field}: must not contain NUL bytes`);
  });

  it(optional ? 'may be left out' : 'is required', async () => {
    if (optional) await expect(check(undefined)).resolves.toBeTruthy();
    else expect(await message(undefined)).toMatch(new RegExp(`^Invalid input: ${field}: `));
  });
});
