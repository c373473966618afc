/**
 * Building `sh -c` command strings; shared by the ssh and local transports so `cwd` means the same on both,
 * and by the modules that send scripts to a host.
 */

/** Quote for POSIX sh: inside single quotes nothing is special except the quote itself. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Quote with double quotes, escaping the four characters that stay special inside them. For a word inside
 * a script that is itself single-quoted as a whole: the script then holds no single quotes of its own and
 * the outer `sh -c '...'` stays readable in logs and process lists.
 */
export function shellDoubleQuote(s: string): string {
  return `"${s.replace(/[$`"\\]/g, '\\$&')}"`;
}

/**
 * Run `command` in `cwd`. `|| exit 1` on its own line rather than `cd dir && command`: with `&&`, a
 * command list like `a; b` would run `b` in the wrong directory when the cd fails.
 */
export function withCwd(command: string, cwd: string | undefined): string {
  if (cwd === undefined || cwd === '') return command;
  return `cd -- ${shellQuote(cwd)} || exit 1\n${command}`;
}
