import { Injectable, type ArgumentMetadata, type PipeTransform, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { declaredFields, nearestName } from '../config/nearest-name.js';
import { AppError } from './errors.js';

/** Unknown fields are refused (a typo should not silently do nothing). */
const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/** Deeper input is refused before class-transformer walks it (it recurses and would overflow the stack). */
const MAX_DEPTH = 32;

/** Unknown fields named in one message; a caller sending thousands gets the first few and a count. */
const MAX_UNKNOWN_LISTED = 10;

/** "cmd: unknown field (did you mean command?)", or without the hint when nothing is close. */
function unknownField(path: string, name: string, known: Iterable<string>): string {
  const near = nearestName(name, known);
  return `${path}: unknown field${near ? ` (did you mean ${near}?)` : ''}`;
}

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const texts = Object.values(e.constraints ?? {});
    let own: string[];
    if (texts.some((text) => text.startsWith('property '))) {
      // class-validator says "property x should not exist" for unknown fields of nested objects.
      own = [unknownField(path, e.property, declaredFields(e.target?.constructor))];
    } else if (texts.length && e.value === undefined) {
      // A missing field breaks every rule it has (type, length, pattern); the one thing to say is that it is missing.
      own = [`${path}: required`];
    } else {
      own = texts.map((text) => `${path}: ${text.replace(new RegExp(`^${e.property} `), '')}`);
    }
    return [...own, ...describe(e.children ?? [], path)];
  });
}

export function validationError(errors: ValidationError[]): AppError {
  return new AppError(400, 'VALIDATION_FAILED', `Invalid input: ${describe(errors).join('; ')}.`);
}

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Validates and converts plain arguments into a DTO instance. REST (InputPipe) and MCP (the tool
 * runner) both come through here, so both accept exactly the same input.
 */
export async function validateInput<T extends object>(cls: Type<T>, value: unknown): Promise<T> {
  if (value === undefined) value = {}; // a POST without a body (Open WebUI sends {} but others send nothing)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError(400, 'VALIDATION_FAILED', 'Invalid input: the arguments must be a JSON object.');
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // A "__proto__" key copied by plain assignment (as JSON-RPC layers do) became the prototype.
    throw new AppError(400, 'VALIDATION_FAILED', 'Invalid input: __proto__: unknown field.');
  }
  if (depthExceeds(value, MAX_DEPTH)) {
    throw new AppError(400, 'VALIDATION_FAILED', `Invalid input: nested deeper than ${MAX_DEPTH} levels.`);
  }
  // Names like "constructor" or "__proto__" look declared to class-validator (it reads metadata from
  // plain objects) and are skipped by class-transformer; check the raw own keys first.
  const fields = declaredFields(cls);
  const unknown = Object.keys(value).filter((k) => !fields.has(k));
  if (unknown.length) {
    const listed = unknown.slice(0, MAX_UNKNOWN_LISTED).map((k) => unknownField(JSON.stringify(k).slice(1, -1).slice(0, 60), k, fields));
    const more = unknown.length > MAX_UNKNOWN_LISTED ? `; and ${unknown.length - MAX_UNKNOWN_LISTED} more unknown fields` : '';
    throw new AppError(400, 'VALIDATION_FAILED', `Invalid input: ${listed.join('; ')}${more}.`);
  }
  const memoKey = flatInputKey(value);
  const known = memoKey === undefined ? undefined : validInputs.get(cls)?.get(memoKey);
  if (known) return Object.assign(Object.create(Object.getPrototypeOf(known)) as T, known);
  const instance = plainToInstance(cls, value);
  const errors = await validate(instance, OPTIONS);
  if (errors.length) throw validationError(errors);
  if (memoKey !== undefined) remember(cls, memoKey, instance);
  return instance;
}

/**
 * Flat inputs already found valid, per DTO class. Most calls repeat a few small inputs (`{}`,
 * `{host: "whisper"}`, a job id), and converting and validating one costs class-transformer and
 * class-validator tens of µs a call; the result depends on nothing but the input. Only flat inputs
 * (every value a string, number, boolean or null) of a few hundred bytes are kept, so a copy of the
 * instance shares nothing with another call; invalid inputs are never kept (they are validated, and
 * refused, every time). Bounded per class: when full, the oldest entry goes.
 */
const validInputs = new WeakMap<Type<object>, Map<string, object>>();
const MAX_REMEMBERED_PER_CLASS = 128;
const MAX_REMEMBERED_KEY_CHARS = 512;

/** The memo key of a small flat input, or undefined when it is not one. */
function flatInputKey(value: object): string | undefined {
  for (const v of Object.values(value)) {
    // Objects could be shared between calls; JSON would write undefined, NaN or Infinity as something else.
    const primitive = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!primitive) return undefined;
  }
  const key = JSON.stringify(value);
  return key.length <= MAX_REMEMBERED_KEY_CHARS ? key : undefined;
}

function remember(cls: Type<object>, key: string, instance: object): void {
  let known = validInputs.get(cls);
  if (!known) validInputs.set(cls, (known = new Map()));
  if (known.size >= MAX_REMEMBERED_PER_CLASS) known.delete(known.keys().next().value!);
  known.set(key, instance);
}

/** How many inputs of a class are remembered as valid (for tests of the bound). */
export const rememberedInputCount = (cls: Type<object>): number => validInputs.get(cls)?.size ?? 0;

const PRIMITIVES = new Set<unknown>([String, Number, Boolean, Array, Object]);

/** The REST pipe: DTO-typed @Body/@Query/@Param arguments go through validateInput. */
@Injectable()
export class InputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const cls = metadata.metatype;
    if (metadata.type === 'custom' || !cls || PRIMITIVES.has(cls)) return value;
    return validateInput(cls as Type<object>, value);
  }
}
