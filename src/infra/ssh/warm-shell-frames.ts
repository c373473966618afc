/**
 * The framing of a warm shell (warm-shell.ts): what one command line written to the shell's stdin looks
 * like, and how the shell's two output streams are split at the end of that command. Pure: no I/O.
 *
 * A warm shell runs one command at a time. After the command exits, the shell prints an end marker on
 * stdout, followed by the exit status, whether processes of the command's session are still alive, and
 * the signal name when the status says the command died from one; then the same marker on stderr. The
 * marker is random per shell and counted per command, so no output of the command can end it early by
 * accident, and output of an earlier command cannot be mistaken for this one's end.
 */
import { randomBytes } from 'node:crypto';
import { shellQuote } from '../shell-quote.js';

/** The exit status a warm shell reports when setsid is missing on the host. */
export const NO_SETSID_STATUS = 97;
/** What a warm shell prints once its sh is about to read commands. */
const READY = '__ght_ready__';
export const READY_LINE = Buffer.from(`${READY}\n`);

/**
 * What the exec channel of a warm shell runs (through the account's shell, as every exec does). Hosts
 * without setsid(1) cannot give each command a process group of its own: exit 97 says so, and commands
 * there run on a channel each. Otherwise the ready line, then a POSIX sh reads commands from stdin.
 * (bash's `exec` takes back its own SHLVL increment, so each command's shell sees the SHLVL a shell
 * started by sshd sees, and Debian's bash decides about sourcing ~/.bashrc as it does on a channel.)
 */
export const WARM_SHELL_COMMAND = `command -v setsid >/dev/null 2>&1 || exit ${NO_SETSID_STATUS}\nprintf '${READY}\\n'\nexec /bin/sh`;

/**
 * The first line a warm shell runs. A signal request on its channel reaches only the shell (sshd
 * signals the session's process group, and each command has a group of its own): on USR1 the shell
 * kills the running command's group and reaps it, so a command can be killed without a second
 * session. sshd refuses signal requests for root logins; the transport then kills by pid from another
 * channel.
 */
export const KILL_SIGNAL = 'USR1';
export const WARM_SHELL_INIT = `trap '[ -n "$_ght_p" ] && kill -s KILL -- "-$_ght_p" 2>/dev/null; wait "$_ght_p" 2>/dev/null' ${KILL_SIGNAL}\n`;

/**
 * The line that runs `command` (already with its pid preamble) in a session of its own, through the
 * account's shell with stdin at EOF, and then reports its end (the wait is quiet: dash would print
 * "Terminated" for a command that died from a signal). The pid is forgotten once the command ended,
 * so a late kill signal cannot reach a process that was given the same number since.
 */
export function commandLine(command: string, marker: string): string {
  return (
    `setsid "\${SHELL:-/bin/sh}" -c ${shellQuote(command)} </dev/null & _ght_p=$!; ` +
    'wait "$_ght_p" 2>/dev/null; _ght_s=$?; _ght_t=0; kill -s 0 -- "-$_ght_p" 2>/dev/null && _ght_t=1; _ght_p=; _ght_n=-; ' +
    '[ "$_ght_s" -gt 128 ] && _ght_n=$(kill -l "$_ght_s" 2>/dev/null); ' +
    `printf '%s %s %s %s\\n' ${marker} "$_ght_s" "$_ght_t" "\${_ght_n:--}"; printf '%s' ${marker} >&2\n`
  );
}

/**
 * End markers for one warm shell: a random part drawn once per shell and a count per command, so no
 * two commands share one and no command can guess its own (it sees neither). Letters, digits and
 * underscores only, so they need no quoting.
 */
export function markerSource(): () => string {
  const nonce = randomBytes(16).toString('hex');
  let n = 0;
  return () => `__ght_end_${nonce}_${++n}`;
}

export interface CommandEnd {
  status: number;
  /** Processes of the command's session outlived it (a background job): they may still write. */
  lingering: boolean;
  /** Signal name (without SIG) when the status was 128 + a signal number. */
  signal: string | null;
}

/**
 * One stream of a warm shell during one command: passes the command's bytes through and finds the end
 * marker, also when a chunk boundary falls inside it (the bytes that could be its start are held back).
 */
export class MarkerScanner {
  private held: Buffer = Buffer.alloc(0);
  private found = false;
  /** Bytes after the marker (stdout: the status line), once it was found. */
  after: Buffer = Buffer.alloc(0);

  constructor(private readonly marker: Buffer) {}

  get ended(): boolean {
    return this.found;
  }

  /** The part of `chunk` that is the command's output (possibly empty). */
  feed(chunk: Buffer): Buffer {
    if (this.found) {
      this.after = this.after.length === 0 ? chunk : Buffer.concat([this.after, chunk]);
      return EMPTY;
    }
    const buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      this.found = true;
      this.held = EMPTY;
      this.after = buf.subarray(at + this.marker.length);
      return buf.subarray(0, at);
    }
    const keep = partialMarkerAtEnd(buf, this.marker);
    this.held = keep === 0 ? EMPTY : Buffer.from(buf.subarray(buf.length - keep));
    return buf.subarray(0, buf.length - keep);
  }

  /** What was held back as a possible marker start, when the stream ends without one. */
  flush(): Buffer {
    const rest = this.held;
    this.held = EMPTY;
    return rest;
  }
}

const EMPTY = Buffer.alloc(0);

/** The length of the longest end of `buf` that is a proper start of `marker`. */
function partialMarkerAtEnd(buf: Buffer, marker: Buffer): number {
  const first = marker[0]!;
  for (let i = Math.max(0, buf.length - marker.length + 1); i < buf.length; i++) {
    if (buf[i] === first && buf.subarray(i).equals(marker.subarray(0, buf.length - i))) return buf.length - i;
  }
  return 0;
}

/**
 * The status line after the stdout marker (" <status> <0|1> <signal or ->\n"): the end, and what came
 * after it (output of processes still running); undefined until the whole line is there.
 */
export function parseEnd(after: Buffer): { end: CommandEnd; rest: Buffer } | undefined {
  const nl = after.indexOf(0x0a);
  if (nl === -1) return undefined;
  const m = /^ (\d{1,3}) ([01]) (-|[A-Z0-9+-]{1,16})$/.exec(after.subarray(0, nl).toString('latin1'));
  // Not our line (cannot happen unless the shell is not the sh we started): treat the shell as spoilt.
  if (!m) return { end: { status: 255, lingering: true, signal: null }, rest: after.subarray(nl + 1) };
  const status = Number(m[1]);
  const signal = m[3] === '-' || status <= 128 ? null : m[3]!.replace(/^SIG/, '');
  return { end: { status, lingering: m[2] === '1', signal }, rest: after.subarray(nl + 1) };
}
