import type { ShellPolicy } from '../../config/config.types.js';
import { AppError } from '../../common/errors.js';

/**
 * Per-host shell policy. The allow/deny patterns are a convenience against accidents (a model
 * running `rm -rf /`), not a security boundary: a command string can always be written another way
 * (quoting, variables, `sh -c`, base64). The boundary is the remote account's permissions.
 */
export function checkCommandPolicy(hostName: string, policy: ShellPolicy, command: string): void {
  if (!policy.enabled) {
    throw new AppError(
      403,
      'COMMAND_DENIED',
      `The shell tool is disabled on host '${hostName}'; use the other tools, or enable shell for this host in the configuration.`,
    );
  }
  const denied = policy.deny.find((p) => new RegExp(p).test(command));
  if (denied) {
    throw new AppError(
      403,
      'COMMAND_DENIED',
      `The command is refused on host '${hostName}' because it matches the deny pattern /${denied}/; run something else or ask an administrator.`,
    );
  }
  if (policy.allow.length && !policy.allow.some((p) => new RegExp(p).test(command))) {
    throw new AppError(
      403,
      'COMMAND_DENIED',
      `The command is refused on host '${hostName}' because it matches none of the allowed patterns (${policy.allow.map((p) => `/${p}/`).join(', ')}).`,
    );
  }
}
