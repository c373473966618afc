import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * An optional integer input field in [min, max]. Converted from text first (@Type), since a GET's query
 * parameters arrive as strings; the range stays out of the schema like every other limit (the field's
 * comment states it, and a value outside gets a 400 that says so).
 */
export function OptionalInt(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer' }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(min),
    Max(max),
  );
}
