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

/**
 * What a plain client does to run commands without a session each: one exec channel running sh, each
 * command written to it in a session of its own (setsid) with an end marker on both streams. The same
 * remote work as the server's warm shells (less their pid line, leftover check and signal name), so
 * the server's cost over this is its own. `run(command)` resolves with { code, stdout }.
 */
export async function rawWarmShell(client) {
  const ch = await new Promise((resolve, reject) => client.exec('exec /bin/sh', (err, c) => (err ? reject(err) : resolve(c))));
  let out = '';
  let err = '';
  let waiter;
  const check = () => {
    const w = waiter;
    if (!w) return;
    const at = out.indexOf(w.marker);
    const nl = at >= 0 ? out.indexOf('\n', at) : -1;
    if (nl < 0 || !err.includes(w.marker)) return;
    waiter = undefined;
    const stdout = out.slice(0, at);
    const code = Number(out.slice(at + w.marker.length, nl));
    out = out.slice(nl + 1);
    err = '';
    w.resolve({ code, stdout });
  };
  ch.on('data', (d) => ((out += d), check()));
  ch.stderr.on('data', (d) => ((err += d), check()));
  let n = 0;
  return {
    run(command) {
      const marker = `__raw_end_${process.pid}_${++n}`;
      return new Promise((resolve) => {
        waiter = { marker, resolve };
        const quoted = `'${command.replace(/'/g, `'\\''`)}'`;
        ch.write(`setsid "\${SHELL:-/bin/sh}" -c ${quoted} </dev/null & p=$!; wait "$p"; echo "${marker} $?"; printf ${marker} >&2\n`);
      });
    },
    close: () => ch.end(),
  };
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
