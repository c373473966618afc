import { Injectable, type ArgumentMetadata, type PipeTransform, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, type ValidationError } from 'class-validator';
import { AppError } from './errors.js';

/** Unknown fields are refused (a typo should not silently do nothing). */
const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/** Deeper input is refused before class-transformer walks it (it recurses and would overflow the stack). */
const MAX_DEPTH = 32;

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((text) =>
      // class-validator says "property x should not exist" for unknown fields.
      text.startsWith('property ') ? `${path}: unknown field` : `${path}: ${text.replace(new RegExp(`^${e.property} `), '')}`,
    );
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

/** Properties a DTO declares (every field carries at least one class-validator decorator). */
const declared = new WeakMap<Type<object>, Set<string>>();
function declaredFields(cls: Type<object>): Set<string> {
  let fields = declared.get(cls);
  if (!fields) {
    fields = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(cls, '', true, false)
        .map((m) => m.propertyName),
    );
    declared.set(cls, fields);
  }
  return fields;
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
    throw new AppError(
      400,
      'VALIDATION_FAILED',
      `Invalid input: ${unknown.map((k) => `${JSON.stringify(k).slice(1, -1).slice(0, 60)}: unknown field`).join('; ')}.`,
    );
  }
  const instance = plainToInstance(cls, value);
  const errors = await validate(instance, OPTIONS);
  if (errors.length) throw validationError(errors);
  return instance;
}

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
