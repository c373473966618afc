/**
 * Building `sh -c` command strings; shared by the ssh and local transports so `cwd` means the same on both.
 */

/** Quote for POSIX sh: inside single quotes nothing is special except the quote itself. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Run `command` in `cwd`. `|| exit 1` on its own line rather than `cd dir && command`: with `&&`, a
 * command list like `a; b` would run `b` in the wrong directory when the cd fails.
 */
export function withCwd(command: string, cwd: string | undefined): string {
  if (cwd === undefined || cwd === '') return command;
  return `cd -- ${shellQuote(cwd)} || exit 1\n${command}`;
}
