import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsOptional, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { nearestName } from '../../src/config/nearest-name.js';
import { validateInput } from '../../src/common/validation.js';
import { AppError } from '../../src/common/errors.js';

// Test files are not compiled with decorator support: the decorators are applied by hand, which is
// what the compiled `@IsString() command` does.
const decorate = (cls: { prototype: object }, field: string, ...decorators: PropertyDecorator[]) =>
  decorators.forEach((d) => d(cls.prototype, field));

class Edit {
  old_text!: string;
  new_text!: string;
}
decorate(Edit, 'old_text', IsString(), MinLength(1));
decorate(Edit, 'new_text', IsString());

class Input {
  command!: string;
  cwd?: string;
  timeout_seconds?: number;
  edits?: Edit[];
}
decorate(Input, 'command', IsString(), MinLength(1), MaxLength(100));
decorate(Input, 'cwd', IsOptional(), IsString());
decorate(Input, 'timeout_seconds', IsOptional(), IsInt());
decorate(
  Input,
  'edits',
  IsOptional(),
  IsArray(),
  ValidateNested({ each: true }),
  Type(() => Edit),
);

async function refusal(value: unknown): Promise<string> {
  try {
    await validateInput(Input, value);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).status).toBe(400);
    expect((e as AppError).code).toBe('VALIDATION_FAILED');
    return (e as AppError).message;
  }
  throw new Error('expected the input to be refused');
}

describe('input messages', () => {
  it('says "required" for a missing field instead of its type and length rules', async () => {
    expect(await refusal({})).toBe('Invalid input: command: required.');
    expect(await refusal({ cwd: '/tmp' })).toBe('Invalid input: command: required.');
    expect(await refusal({ command: 'ls', edits: [{ new_text: 'x' }] })).toBe('Invalid input: edits.0.old_text: required.');
  });

  it('still states the rule a present but wrong value breaks', async () => {
    expect(await refusal({ command: '' })).toBe('Invalid input: command: must be longer than or equal to 1 characters.');
    expect(await refusal({ command: 5 })).toMatch(/^Invalid input: command: must be .*string/);
    expect(await refusal({ command: null })).not.toContain('required');
  });

  it('names the nearest known field for an unknown one, at the top level and nested', async () => {
    expect(await refusal({ cmd: 'ls' })).toBe('Invalid input: cmd: unknown field (did you mean command?).');
    expect(await refusal({ command: 'ls', timeout: 5 })).toBe('Invalid input: timeout: unknown field (did you mean timeout_seconds?).');
    expect(await refusal({ command: 'ls', edits: [{ old_text: 'a', new_txt: 'b' }] })).toContain(
      'edits.0.new_txt: unknown field (did you mean new_text?)',
    );
    expect(await refusal({ command: 'ls', surprise: 1 })).toBe('Invalid input: surprise: unknown field.');
  });

  it('keeps the message short when a caller sends thousands of unknown fields', async () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`.padEnd(200, 'x'), i]));
    const message = await refusal({ command: 'ls', ...many });
    expect(message).toContain('and 4990 more unknown fields');
    expect(message.length).toBeLessThan(1500);
  });
});

class OptionalOnly {
  host?: string;
}
decorate(OptionalOnly, 'host', IsOptional(), IsString(), MinLength(1));

describe('empty input (checked once per class when it is valid)', () => {
  it('refuses {} the same way every time when a field is required', async () => {
    for (let i = 0; i < 3; i++) expect(await refusal({})).toBe('Invalid input: command: required.');
    expect(await refusal(undefined)).toBe('Invalid input: command: required.');
  });

  it('answers a fresh instance of the class for each valid {} and still checks non-empty input', async () => {
    const first = await validateInput(OptionalOnly, {});
    const second = await validateInput(OptionalOnly, {});
    const third = await validateInput(OptionalOnly, undefined);
    for (const v of [first, second, third]) expect(v).toBeInstanceOf(OptionalOnly);
    expect(first).not.toBe(second);
    first.host = 'changed';
    expect(second.host).toBeUndefined();
    await expect(validateInput(OptionalOnly, { host: '' })).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    await expect(validateInput(OptionalOnly, { host: 5 })).rejects.toMatchObject({ status: 400 });
    await expect(validateInput(OptionalOnly, { hots: 'a' })).rejects.toThrow('hots: unknown field (did you mean host?)');
    await expect(validateInput(OptionalOnly, Object.create({ host: 'x' }))).rejects.toThrow('__proto__: unknown field');
    expect(await validateInput(OptionalOnly, { host: 'gpu' })).toMatchObject({ host: 'gpu' });
  });
});

describe('nearestName', () => {
  const shell = ['command', 'cwd', 'timeout_seconds', 'host'];
  it.each([
    ['cmd', 'command'], // an abbreviation beats cwd, one edit away
    ['comand', 'command'],
    ['comamnd', 'command'],
    ['COMMAND', 'command'], // field names are case-sensitive: the right spelling is the suggestion
    ['cdw', 'cwd'],
    ['hots', 'host'],
    ['timeout', 'timeout_seconds'],
    ['timeout-seconds', 'timeout_seconds'],
    ['xyz', undefined],
    ['', undefined],
  ])('%s -> %s', (word, expected) => {
    expect(nearestName(word, shell)).toBe(expected);
  });

  it('answers at once for long hostile names', () => {
    const started = Date.now();
    for (let i = 0; i < 2000; i++) nearestName('a'.repeat(10_000) + i, shell);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
