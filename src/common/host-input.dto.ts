import { IsOptional, Matches } from 'class-validator';

/** Every operation takes an optional host; input DTOs extend this. */
export class HostInput {
  /** Host to act on; omit for the default host. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, { message: 'host must be a configured host name (letters, digits, - or _)' })
  host?: string;
}
