import { IsOptional, Matches } from 'class-validator';
import { HOST_NAME_PATTERN } from '../config/host-names.js';

/** Every operation takes an optional host; input DTOs extend this. */
export class HostInput {
  /** Host to act on; omit for the default host. */
  @IsOptional()
  @Matches(HOST_NAME_PATTERN, { message: 'host must be a configured host name (letters, digits, - or _)' })
  host?: string;
}
