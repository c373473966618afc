/**
 * Dialling one SSH connection: the private key, TCP, the handshake with the host key checked against
 * known_hosts and/or a pinned fingerprint, and the login. Every failure becomes one AppError that names
 * the host and what to do (ssh-errors.ts).
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { Client, type ConnectConfig } from 'ssh2';
import type { AppError } from '../../common/errors.js';
import {
  checkHostKey,
  fingerprintMatches,
  fingerprintSha256,
  keyTypeOfBlob,
  knownHostsName,
  normaliseFingerprint,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  type KnownHostEntry,
} from './known-hosts.js';
import { SshConnection, type WedgeProbe } from './ssh-connection.js';
import { connectError, hostKeyError, keyParseError, keyReadError, type HostKeyProblem, type SshTarget } from './ssh-errors.js';

export interface DialOptions {
  target: SshTarget;
  /** Private key contents; or privateKeyPath (read at each dial, so a rotated key is picked up). */
  privateKey?: Buffer | string;
  privateKeyPath?: string;
  passphrase?: string;
  knownHostsPath?: string;
  /** "SHA256:<base64>" (the prefix may be missing). */
  hostKeyFingerprint?: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  wedge: WedgeProbe;
}

const SSH2_HOST_KEY_ALGORITHMS = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
  'ssh-dss',
]);

/** @param onDead see SshConnection: called when the connection, once up, is found dead. */
export async function dialSsh(o: DialOptions, onDead: (conn: SshConnection, reason: string) => void): Promise<SshConnection> {
  const t = o.target;
  const keyDescription = o.privateKeyPath ? `the private key ${o.privateKeyPath}` : 'the configured private key';
  let privateKey: Buffer | string;
  if (o.privateKey) {
    privateKey = o.privateKey;
  } else {
    try {
      privateKey = await readFile(o.privateKeyPath!);
    } catch (err) {
      throw keyReadError(t, o.privateKeyPath!, (err as NodeJS.ErrnoException).code);
    }
  }
  const knownHosts = await loadKnownHosts(o.knownHostsPath);
  const names = [knownHostsName(t.host.toLowerCase(), t.port)];
  const algorithms = o.hostKeyFingerprint ? undefined : preferredHostKeyAlgorithms(knownHosts, names);
  const serverHostKey = algorithms?.filter((a) => SSH2_HOST_KEY_ALGORITHMS.has(a));

  return new Promise<SshConnection>((resolve, reject) => {
    const client = new Client();
    const sock = new net.Socket();
    let settled = false;
    let tcpConnected = false;
    let hostKeyProblem: AppError | undefined;

    const fail = (err: AppError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('ready');
      // Keep a no-op error listener: ssh2 may still emit while tearing down.
      client.on('error', () => {});
      sock.destroy();
      reject(err);
    };
    const failure = (err: Error, timedOut = false) =>
      connectError(t, { err, tcpConnected, timedOut, timeoutMs: o.connectTimeoutMs, keyDescription });
    const timer = setTimeout(() => fail(failure(new Error('connect timeout'), true)), o.connectTimeoutMs);

    sock.on('error', () => {
      /* ssh2 reports socket errors through the client's 'error' event */
    });
    // TCP_NODELAY: without it Nagle's algorithm and delayed ACKs add ~40 ms to every exec.
    sock.setNoDelay(true);
    sock.on('connect', () => {
      tcpConnected = true;
      sock.setNoDelay(true);
      if (sock.remoteAddress && sock.remoteAddress !== t.host) {
        names.push(knownHostsName(sock.remoteAddress, t.port));
      }
    });

    const hostVerifier = (key: Buffer): boolean => {
      const problem = verifyHostKey(o, key, knownHosts, names);
      if (problem) hostKeyProblem = problem;
      return !problem;
    };

    client.on('error', (err: Error & { level?: string; code?: string }) => fail(hostKeyProblem ?? failure(err)));
    client.on('close', () => fail(hostKeyProblem ?? failure(new Error('connection lost before login completed'))));
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const conn = new SshConnection(client, o.wedge, onDead);
      sock.on('data', () => conn.heard());
      let lastErr: string | undefined;
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      // Keepalive timeout, protocol error: remembered for the 'close' that follows.
      client.on('error', (err: Error) => (lastErr = err.message));
      client.on('close', () => conn.markDead(lastErr ?? 'connection closed'));
      resolve(conn);
    });

    const config: ConnectConfig = {
      sock,
      username: t.username,
      privateKey,
      passphrase: o.passphrase,
      // Our own timer above gives the clearer message; this is ssh2's backstop.
      readyTimeout: o.connectTimeoutMs + 1_000,
      keepaliveInterval: o.keepaliveIntervalMs,
      keepaliveCountMax: o.keepaliveCountMax,
      hostVerifier,
    };
    if (serverHostKey && serverHostKey.length > 0) {
      config.algorithms = { serverHostKey: serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
    }
    sock.connect(t.port, t.host);
    try {
      client.connect(config);
    } catch (err) {
      // ssh2 parses the private key synchronously: wrong passphrase or not a key.
      fail(keyParseError(t, keyDescription, (err as Error).message));
    }
  });
}

/** Returns the error to refuse the key with, or undefined when the key is trusted. */
function verifyHostKey(o: DialOptions, key: Buffer, knownHosts: KnownHostEntry[], names: string[]): AppError | undefined {
  const pinned = o.hostKeyFingerprint;
  const verdict = checkHostKey(knownHosts, names, key);
  if (verdict.result === 'revoked') return hostKeyProblem(o, key, { verdict: 'revoked' });
  if (pinned && fingerprintMatches(key, pinned)) return undefined;
  if (verdict.result === 'trusted') return undefined;
  if (verdict.result === 'changed') {
    return hostKeyProblem(o, key, { verdict: 'changed', changedLines: verdict.lines });
  }
  return hostKeyProblem(o, key, {
    verdict: pinned ? 'pin-mismatch' : 'unknown',
    pinned: pinned ? normaliseFingerprint(pinned) : undefined,
  });
}

function hostKeyProblem(o: DialOptions, key: Buffer, p: Pick<HostKeyProblem, 'verdict' | 'changedLines' | 'pinned'>): AppError {
  return hostKeyError(o.target, {
    ...p,
    keyType: keyTypeOfBlob(key),
    fingerprint: fingerprintSha256(key),
    knownHostsPath: o.knownHostsPath,
    knownHostsName: knownHostsName(o.target.host.toLowerCase(), o.target.port),
  });
}

async function loadKnownHosts(knownHostsPath: string | undefined): Promise<KnownHostEntry[]> {
  if (!knownHostsPath) return [];
  try {
    // Read at every connect so a key added with ssh-keyscan is picked up without a restart.
    return parseKnownHosts(await readFile(knownHostsPath, 'utf8'));
  } catch {
    // Missing or unreadable: nothing is trusted from it, and the refusal message says how to add the key.
    return [];
  }
}
