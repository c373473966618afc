import { ValidationPipe, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { AppError } from './errors.js';

/** The same rules for REST (ValidationPipe) and MCP (validateInput): unknown fields are refused. */
const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

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
  const lines = describe(errors);
  return new AppError(400, 'VALIDATION_FAILED', `Invalid input: ${lines.join('; ')}.`);
}

export const validationPipe = () =>
  new ValidationPipe({ ...OPTIONS, transform: true, exceptionFactory: (errors) => validationError(errors) });

/** Validates and converts plain arguments (from MCP) exactly as the REST pipe does. */
export async function validateInput<T extends object>(cls: Type<T>, value: unknown): Promise<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError(400, 'VALIDATION_FAILED', 'Invalid input: the arguments must be a JSON object.');
  }
  const instance = plainToInstance(cls, value);
  const errors = await validate(instance, OPTIONS);
  if (errors.length) throw validationError(errors);
  return instance;
}
