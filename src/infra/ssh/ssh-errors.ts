/**
 * Turns what ssh2 and the socket report into the project's AppErrors. The messages are read by a person or
 * a model in a chat window: one sentence naming the host and what to do, never a stack trace,
 * key material or passphrase.
 */
import { AppError } from '../../common/errors.js';
import { clip, formatSeconds } from '../../common/text.js';

export interface SshTarget {
  /** "user@host:port" */
  address: string;
  host: string;
  port: number;
  username: string;
}

/** What went wrong while connecting, as far as the connection attempt could tell. */
export interface ConnectFailure {
  err: Error & { code?: string | number; level?: string };
  /** The TCP connection had been established. */
  tcpConnected: boolean;
  /** Our own connect timer fired. */
  timedOut: boolean;
  timeoutMs: number;
  /** Describes the key used, for the auth message: a path or "the configured private key". */
  keyDescription: string;
}

export function connectError(t: SshTarget, f: ConnectFailure): AppError {
  const { err } = f;
  const secs = formatSeconds(f.timeoutMs);
  if (f.timedOut || err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
    if (!f.tcpConnected) {
      return new AppError(
        504,
        'HOST_TIMEOUT',
        `SSH to ${t.address} timed out after ${secs} without a TCP connection; check that the host is up and that no firewall drops port ${t.port}.`,
      );
    }
    return new AppError(
      504,
      'HOST_TIMEOUT',
      `SSH to ${t.address} timed out after ${secs}: the TCP connection opened but the SSH handshake and login did not complete; check that port ${t.port} is an SSH server and that the host is not overloaded.`,
    );
  }
  if (err.level === 'client-authentication') {
    return new AppError(
      503,
      'SSH_AUTH_FAILED',
      `SSH to ${t.address} was refused: the server did not accept ${f.keyDescription} for user ${t.username}; add its public key to ~${t.username}/.ssh/authorized_keys on the host or configure the right key and user.`,
    );
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return new AppError(
        503,
        'HOST_UNREACHABLE',
        `SSH to ${t.address} was refused (connection refused); check that sshd is running and the address and port are right.`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new AppError(
        503,
        'HOST_UNREACHABLE',
        `SSH to ${t.address} failed: the host is unreachable (${err.code}); check the address and the network path to it.`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new AppError(
        503,
        'HOST_UNREACHABLE',
        `SSH to ${t.address} failed: the host name ${t.host} could not be resolved (${err.code}); check the name or use the host's IP address.`,
      );
    case 'ECONNRESET':
    case 'EPIPE':
      return new AppError(
        503,
        'HOST_UNREACHABLE',
        `SSH to ${t.address} failed: the connection was reset before login completed; check that port ${t.port} is an SSH server and that sshd is not rate-limiting new connections (MaxStartups).`,
      );
  }
  if (/before handshake|connection lost/i.test(err.message) || !f.tcpConnected) {
    return new AppError(
      503,
      'HOST_UNREACHABLE',
      `SSH to ${t.address} failed: the server closed the connection before login completed; check that port ${t.port} is an SSH server and that sshd is not rate-limiting new connections (MaxStartups).`,
    );
  }
  return new AppError(
    503,
    'HOST_UNREACHABLE',
    `SSH to ${t.address} failed (${oneLine(err.message)}); check that the host is up and sshd is running, then try again.`,
  );
}

export function keyReadError(t: SshTarget, path: string, code: string | undefined): AppError {
  return new AppError(
    503,
    'SSH_AUTH_FAILED',
    `SSH to ${t.address} cannot start: the private key file ${path} could not be read (${code ?? 'error'}); check the configured private key path and its permissions.`,
  );
}

export function keyParseError(t: SshTarget, keyDescription: string, reason: string): AppError {
  return new AppError(
    503,
    'SSH_AUTH_FAILED',
    `SSH to ${t.address} cannot start: ${keyDescription} could not be used (${oneLine(reason)}); check the passphrase and that the file is an OpenSSH or PEM private key.`,
  );
}

export function droppedDuringExec(t: SshTarget): AppError {
  return new AppError(
    503,
    'HOST_UNREACHABLE',
    `The SSH connection to ${t.address} dropped while the command was running; it may or may not have completed on the host, so check its effect before retrying.`,
  );
}

export function droppedBeforeStart(t: SshTarget): AppError {
  return new AppError(
    503,
    'HOST_UNREACHABLE',
    `The SSH connection to ${t.address} stopped answering before the command started, and so did a new one; the command was not run, so check the network path to the host and try again.`,
  );
}

export function channelOpenError(t: SshTarget, reason: string): AppError {
  return new AppError(
    503,
    'HOST_UNREACHABLE',
    `SSH to ${t.address} could not open a session channel (${oneLine(reason)}); try again, and if this repeats set max_channels below the server's sshd MaxSessions.`,
  );
}

export function notStartedInTime(t: SshTarget, timeoutMs: number, waitingFor: string): AppError {
  return new AppError(
    504,
    'HOST_TIMEOUT',
    `The command did not start on ${t.address} within its ${formatSeconds(timeoutMs)} timeout (still waiting for ${waitingFor}); it was not run, so try again or allow a longer timeout.`,
  );
}

export function transportClosed(t: SshTarget): AppError {
  return new AppError(
    503,
    'HOST_UNREACHABLE',
    `The SSH transport to ${t.address} is shut down; restart the server to use this host again.`,
  );
}

/** ssh2 messages are single lines already; this guards against anything multi-line slipping through. */
function oneLine(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return clip(line, 200);
}

export interface HostKeyProblem {
  verdict: 'unknown' | 'changed' | 'revoked' | 'pin-mismatch';
  keyType: string;
  /** "SHA256:..." of the key the server presented. */
  fingerprint: string;
  knownHostsPath?: string;
  /** The name looked up in known_hosts ("host" or "[host]:port"). */
  knownHostsName: string;
  changedLines?: number[];
  pinned?: string;
}

export function hostKeyError(t: SshTarget, p: HostKeyProblem): AppError {
  const scan = p.knownHostsPath
    ? `\`ssh-keyscan -p ${t.port} ${t.host} >> ${p.knownHostsPath}\` (compare the fingerprint first)`
    : `\`ssh-keyscan -p ${t.port} ${t.host} >> ~/.ssh/known_hosts\` and configure that known_hosts file`;
  const trust = `trust it with ${scan} or pin it (SSH_HOST_KEY_FINGERPRINT / host_key_fingerprint): ${p.fingerprint}`;
  let message: string;
  switch (p.verdict) {
    case 'unknown':
      message =
        `SSH host key of ${t.address} is not trusted: the server presented ${p.keyType} ${p.fingerprint}, ` +
        `which is not in ${p.knownHostsPath ?? 'any configured known_hosts file'}${p.pinned ? ` and is not the pinned ${p.pinned}` : ''}; ` +
        `if this is the right host, ${trust}.`;
      break;
    case 'changed':
      message =
        `SSH host key of ${t.address} has CHANGED: the server presented ${p.keyType} ${p.fingerprint} but ${p.knownHostsPath} ` +
        `(line ${(p.changedLines ?? []).join(', ')}) lists a different key for ${p.knownHostsName}, so the host was reinstalled or ` +
        `someone is intercepting the connection; only if the change is expected, remove the old entry with ` +
        `\`ssh-keygen -R '${p.knownHostsName}' -f ${p.knownHostsPath}\` and ${trust}.`;
      break;
    case 'revoked':
      message = `SSH host key of ${t.address} (${p.keyType} ${p.fingerprint}) is marked @revoked in ${p.knownHostsPath}; the connection was refused, so ask the host's administrator for its new key.`;
      break;
    case 'pin-mismatch':
      message =
        `SSH host key of ${t.address} does not match the pinned fingerprint ${p.pinned} (SSH_HOST_KEY_FINGERPRINT / host_key_fingerprint): the server presented ${p.keyType} ${p.fingerprint}, ` +
        `so the host was reinstalled or someone is intercepting the connection; only if the change is expected, pin the new fingerprint or ${trust.replace(/ or pin .*$/, '')}.`;
      break;
  }
  // A key never seen before is a set-up step (trust it once); a changed or revoked key is an alarm.
  return new AppError(503, p.verdict === 'unknown' ? 'HOST_KEY_UNKNOWN' : 'HOST_KEY_MISMATCH', message);
}

/**
 * A forwarded connection (direct-tcpip channel) that could not be opened or was lost. Not an AppError:
 * the caller knows what is behind the port (Ollama) and words the message; `code` says what happened
 * in the terms of a TCP connect (ECONNREFUSED, ETIMEDOUT, ...) or one of the SSH_FORWARD_* codes.
 */
export class ForwardError extends Error {
  constructor(
    /** ECONNREFUSED etc., or SSH_FORWARD_PROHIBITED, SSH_FORWARD_TIMEOUT, SSH_FORWARD_FAILED, SSH_CONNECTION_DROPPED. */
    readonly code: string,
    message: string,
    /** The SSH connection, "user@host:port". */
    readonly via: string,
  ) {
    super(message);
    this.name = 'ForwardError';
  }
}

/**
 * sshd refuses a direct-tcpip channel with a reason code and, for a failed connect, strerror() as the
 * description (OpenSSH 9.2: "Connection refused"). Reason 1 (administratively prohibited) is
 * AllowTcpForwarding no / local-only, DisableForwarding, a PermitOpen that does not list the target, or
 * `restrict`/`no-port-forwarding` on the key.
 */
export function forwardOpenError(t: SshTarget, dest: string, reason: unknown, description: string): ForwardError {
  const text = oneLine(description || 'no reason given');
  if (reason === 1) {
    return new ForwardError(
      'SSH_FORWARD_PROHIBITED',
      `sshd on ${t.address} refused to forward to ${dest} (administratively prohibited: ${text})`,
      t.address,
    );
  }
  const errno = /refused/i.test(text)
    ? 'ECONNREFUSED'
    : /timed out/i.test(text)
      ? 'ETIMEDOUT'
      : /no route/i.test(text)
        ? 'EHOSTUNREACH'
        : /network is unreachable/i.test(text)
          ? 'ENETUNREACH'
          : /unknown host|not known|resolve/i.test(text)
            ? 'ENOTFOUND'
            : 'SSH_FORWARD_FAILED';
  return new ForwardError(errno, `${t.address} could not connect to ${dest} (${text})`, t.address);
}
