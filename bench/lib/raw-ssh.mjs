/** The baseline: a raw ssh2 client doing what the server does, minus the server. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';

function hostVerifierFor(fingerprint) {
  return (key) => 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '') === fingerprint;
}

/** noDelay: true = our own socket with TCP_NODELAY (as the product does); false = ssh2's default socket. */
export function rawConnect(sshd, { noDelay }) {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const config = {
      username: sshd.username,
      privateKey: readFileSync(sshd.privateKeyPath),
      hostVerifier: hostVerifierFor(sshd.hostKeyFingerprint),
      readyTimeout: 30_000,
    };
    if (noDelay) {
      const sock = new net.Socket();
      sock.setNoDelay(true);
      sock.on('connect', () => sock.setNoDelay(true));
      sock.on('error', () => {});
      sock.connect(sshd.port, sshd.host);
      config.sock = sock;
    } else {
      config.host = sshd.host;
      config.port = sshd.port;
    }
    client.once('ready', () => {
      client.removeListener('error', reject);
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', reject);
    client.connect(config);
  });
}

/** One exec: open a session channel, EOF its stdin, collect stdout (or only count it), wait for close. */
export function rawExec(client, command, { keep = true } = {}) {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      const chunks = [];
      let bytes = 0;
      let code = null;
      ch.on('data', (d) => {
        bytes += d.length;
        if (keep) chunks.push(d);
      });
      ch.stderr.on('data', () => {});
      ch.on('exit', (c) => (code = c));
      ch.on('close', () => resolve({ code, bytes, stdout: keep ? Buffer.concat(chunks).toString('utf8') : '' }));
      ch.end();
    });
  });
}

/**
 * sshd may refuse an open right after a close (it frees the session in its next pass, MaxSessions). The
 * best a plain client can do is ask again at once: each refusal is a round trip, no sleep is needed, and
 * the baseline must not be slowed by a back-off the server then looks good against.
 */
export async function rawExecRetrying(client, command, counters) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rawExec(client, command);
    } catch (err) {
      if (attempt >= 100) throw err;
      counters.retries++;
    }
  }
}

export function rawClose(client) {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      client.destroy();
      resolve();
    }, 2000);
    client.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    client.end();
  });
}

/** An SFTP session on the client, with its callback methods as promises: call('open', file, 'r') → [handle]. */
export async function rawSftp(client) {
  const sftp = await new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  const call = (method, ...args) =>
    new Promise((resolve, reject) => sftp[method](...args, (err, ...rest) => (err ? reject(err) : resolve(rest))));
  return { call, end: () => sftp.end() };
}
