import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { rememberedInputCount, validateInput } from '../../src/common/validation.js';
import { appErrorOfAsync } from '../support/errors.js';

// Decorators applied by hand, as the compiled DTOs do (tests are not compiled with decorator support).
const decorate = (cls: { prototype: object }, field: string, ...decorators: PropertyDecorator[]) =>
  decorators.forEach((d) => d(cls.prototype, field));

class Inner {
  name!: string;
}
decorate(Inner, 'name', IsString());

class Query {
  host?: string;
  window_minutes?: number;
  inner?: Inner;
}
decorate(Query, 'host', IsOptional(), IsString());
decorate(
  Query,
  'window_minutes',
  IsOptional(),
  Type(() => Number),
  IsInt(),
  Min(1),
  Max(1440),
);
decorate(
  Query,
  'inner',
  IsOptional(),
  ValidateNested(),
  Type(() => Inner),
);

describe('remembered valid inputs', () => {
  it('answers a repeated input with an equal but separate instance, converted as the first time', async () => {
    const first = await validateInput(Query, { host: 'whisper', window_minutes: '30' });
    const again = await validateInput(Query, { host: 'whisper', window_minutes: '30' });
    expect(again).toBeInstanceOf(Query);
    expect(again).toEqual(first);
    expect(again.window_minutes).toBe(30);
    expect(again).not.toBe(first);
    again.host = 'changed by a service';
    expect((await validateInput(Query, { host: 'whisper', window_minutes: '30' })).host).toBe('whisper');
  });

  it('still refuses bad input after valid inputs are remembered, and never remembers a refusal', async () => {
    await validateInput(Query, {});
    await validateInput(Query, { window_minutes: 10 });
    for (let i = 0; i < 2; i++) {
      expect((await appErrorOfAsync(validateInput(Query, { window_minutes: 0 }))).message).toMatch(/window_minutes/);
      expect((await appErrorOfAsync(validateInput(Query, { window_minutes: '10.5' }))).message).toMatch(/window_minutes/);
      expect((await appErrorOfAsync(validateInput(Query, { host: 5 }))).message).toMatch(/host/);
      expect((await appErrorOfAsync(validateInput(Query, { hots: 'x' }))).message).toMatch(/did you mean host/);
    }
    // A value that JSON would write like another (NaN as null, which IsOptional accepts) is validated, not looked up.
    expect((await validateInput(Query, { window_minutes: null })).window_minutes).toBeNull();
    expect((await appErrorOfAsync(validateInput(Query, { window_minutes: NaN }))).status).toBe(400);
    expect((await validateInput(Query, { window_minutes: 10 })).window_minutes).toBe(10);
  });

  it('keeps nested inputs out (their objects would be shared) and stays bounded', async () => {
    class Fresh extends Query {}
    const nested = await validateInput(Fresh, { inner: { name: 'a' } });
    const nestedAgain = await validateInput(Fresh, { inner: { name: 'a' } });
    expect(nestedAgain.inner).toBeInstanceOf(Inner);
    expect(nestedAgain.inner).not.toBe(nested.inner);
    expect(rememberedInputCount(Fresh)).toBe(0);
    for (let i = 1; i <= 1000; i++) await validateInput(Fresh, { window_minutes: i });
    expect(rememberedInputCount(Fresh)).toBe(128);
    // The newest stay, and an evicted one is validated again correctly.
    expect((await validateInput(Fresh, { window_minutes: 1000 })).window_minutes).toBe(1000);
    expect((await validateInput(Fresh, { window_minutes: 1 })).window_minutes).toBe(1);
    expect(rememberedInputCount(Fresh)).toBe(128);
  });
});
