import { Matches } from 'class-validator';

/**
 * A text input that must not hold a NUL byte. A NUL ends a C string: the host would see a shorter path or
 * command than the one given (sshd and spawn() cut the string there, sh drops the byte), so it is
 * refused as invalid input (400) instead.
 */
export function NoNulBytes(): PropertyDecorator {
  return Matches(/^[^\0]*$/, { message: '$property must not contain NUL bytes' });
}
