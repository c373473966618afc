/**
 * A real OpenSSH server for the tests, on 127.0.0.1, a random free port, generated keys, logging in as
 * the user that runs the tests. Tests talk to it exactly as the product talks to a GPU host, so the
 * transport is exercised against sshd's real behaviour (MaxSessions, channel close semantics, signals),
 * not against a mock's idea of it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const SSHD_BIN = '/usr/sbin/sshd';

/** What a test needs to connect; plain data so vitest can hand it from globalSetup to the workers. */
export interface SshdInfo {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  knownHostsPath: string;
  /** "SHA256:<base64 without padding>", as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** First directory on the remote PATH: put fake commands (nvidia-smi) here. */
  binDir: string;
  /** Temp directory holding keys, config, pid file and binDir. */
  dir: string;
}

export interface Sshd extends SshdInfo {
  /** The generated sshd_config text. */
  config: string;
  /** SIGTERM the server and drop every open connection; the keys and port stay reserved for restart(). */
  stop(): Promise<void>;
  /** Like stop(), with SIGKILL: the host vanishing without a goodbye. */
  kill(): Promise<void>;
  /** Start again on the same port with the same keys (after stop() or kill()). */
  restart(): Promise<void>;
  /** stop() and delete the temp directory. */
  dispose(): Promise<void>;
  /** The server's log (sshd -e writes it to stderr), for failure messages. */
  log(): string;
}

export interface StartSshdOptions {
  /** Extra sshd_config lines; they come first, so they override the generated ones (first value wins). */
  extraConfig?: string[];
}

/** Generate an unencrypted ed25519 key pair at `file` / `file.pub`. */
export async function generateKey(file: string, comment = 'gpu-host-tools-test'): Promise<void> {
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** OpenSSH's fingerprint of a public key line ("ssh-ed25519 AAAA... comment"). */
export function fingerprintOfPublicKeyLine(line: string): string {
  const blob = Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  await ensureSshdInstalled();
  const username = os.userInfo().username;
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // sshd refuses to start without its privilege separation directory when started by root; Debian
    // creates it from the systemd unit, which never ran in a container.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    await ensureAccountNotLocked(username);
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'ght-sshd-'));
  // sshd (even with StrictModes no) and ssh-keygen are fussy about world-writable parents of key files.
  await chmod(dir, 0o700);
  const binDir = path.join(dir, 'bin');
  await mkdir(binDir, { recursive: true });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'id_ed25519');
  await Promise.all([generateKey(hostKey, 'test-host'), generateKey(clientKey, 'test-client')]);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(clientKey + '.pub'), { mode: 0o600 });
  const hostPub = (await readFile(hostKey + '.pub', 'utf8')).trim();
  const [keyType, keyB64] = hostPub.split(/\s+/);

  const port = await freePort();
  const knownHostsPath = path.join(dir, 'known_hosts');
  await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${keyType} ${keyB64}\n`);

  const configLines = [
    // sshd takes the first value it reads for a keyword, so overrides go first.
    ...(options.extraConfig ?? []),
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // Without PAM, sshd's own account checks apply: see ensureAccountNotLocked().
    'UsePAM no',
    // The tests run as root here and in CI; production never needs this, the test server does.
    'PermitRootLogin yes',
    // The temp dir lives under /tmp; with StrictModes sshd would reject keys under a sticky shared dir.
    'StrictModes no',
    // sshd's default; stated because the transport's channel limit is tested against it.
    'MaxSessions 10',
    'MaxStartups 100:30:200',
    // SetEnv is applied after sshd builds the default environment, so it replaces PATH for every session
    // (checked with OpenSSH 9.2). Only the first SetEnv line counts, hence one line.
    // SHLVL=1: Debian's bash sources ~/.bashrc for `bash -c` when started by sshd, but only as a top-level
    // shell (SHLVL < 2 after its own increment). The test account's rc files are the machine's business, not
    // the product's: here root's .bashrc runs pyenv init (~450 ms per exec) and prepends its own PATH,
    // which would make every exec slow and binDir no longer first.
    `SetEnv PATH=${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SHLVL=1`,
    'LogLevel INFO',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'Subsystem sftp internal-sftp',
  ];
  const config = configLines.join('\n') + '\n';
  const configPath = path.join(dir, 'sshd_config');
  await writeFile(configPath, config, { mode: 0o600 });

  let child: ChildProcess | undefined;
  let logText = '';
  const appendLog = (chunk: Buffer) => {
    logText += chunk.toString('utf8');
    // A long run logs a line per connection; keep the end, which is where failures are.
    if (logText.length > 200_000) logText = logText.slice(-100_000);
  };

  const launch = async () => {
    const proc = spawn(SSHD_BIN, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr!.on('data', appendLog);
    const started = logText.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('sshd did not report listening within 10 s')), 10_000);
      const onData = () => {
        if (logText.slice(started).includes(`Server listening on 127.0.0.1 port ${port}`)) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) =>
        fail(new Error(`sshd exited during start-up (code ${code}, signal ${sig})`));
      const onError = (err: Error) => fail(err);
      const fail = (err: Error) => {
        cleanup();
        reject(new Error(`${err.message}; sshd log:\n${logText.slice(started).trim()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        proc.stderr!.off('data', onData);
        proc.off('exit', onExit);
        proc.off('error', onError);
      };
      proc.stderr!.on('data', onData);
      proc.once('exit', onExit);
      proc.once('error', onError);
    });
  };

  const terminate = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    // The listener forks one process per connection, and those outlive the listener. A test that stops
    // "the host" wants established connections to drop too, so signal the per-connection children
    // (found by parent pid) before the listener.
    for (const pid of childPids(proc.pid!)) {
      try {
        process.kill(pid, signal === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  };

  await launch();

  const sshd: Sshd = {
    host: '127.0.0.1',
    port,
    username,
    privateKeyPath: clientKey,
    knownHostsPath,
    hostKeyFingerprint: fingerprintOfPublicKeyLine(hostPub),
    binDir,
    dir,
    config,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
    dispose: async () => {
      await terminate('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    log: () => logText,
  };
  return sshd;
}

/** The serialisable part of an Sshd (what globalSetup provides to the test workers). */
export function sshdInfo(s: SshdInfo): SshdInfo {
  const { host, port, username, privateKeyPath, knownHostsPath, hostKeyFingerprint, binDir, dir } = s;
  return { host, port, username, privateKeyPath, knownHostsPath, hostKeyFingerprint, binDir, dir };
}

let installPromise: Promise<void> | undefined;

async function ensureSshdInstalled(): Promise<void> {
  if (existsSync(SSHD_BIN)) return;
  installPromise ??= (async () => {
    if (process.getuid?.() !== 0) {
      throw new Error(
        `${SSHD_BIN} is missing: the integration tests need a real OpenSSH server; ` +
          `install it with "sudo apt-get install -y openssh-server" (Debian/Ubuntu) and run the tests again.`,
      );
    }
    // RUNLEVEL=1 makes the package's invoke-rc.d skip starting a system sshd on port 22: the tests only
    // want the binary.
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
    try {
      await execFileP('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
      await execFileP('apt-get', ['install', '-y', '--no-install-recommends', 'openssh-server'], {
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `${SSHD_BIN} is missing and "apt-get install -y openssh-server" failed: ` +
          `${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ')}`,
        { cause: err },
      );
    }
    if (!existsSync(SSHD_BIN)) throw new Error(`openssh-server was installed but ${SSHD_BIN} is still missing.`);
  })();
  try {
    await installPromise;
  } catch (err) {
    installPromise = undefined;
    throw err;
  }
}

/**
 * With `UsePAM no`, sshd applies its own account checks and refuses even a valid key for an account whose
 * /etc/shadow password field starts with "!" (Linux's LOCKED_PASSWD_PREFIX: `passwd -l`, or the bare "!"
 * that useradd leaves, or "!*"); it logs "User x not allowed because account is locked". A field of "*"
 * (no password can match) is NOT treated as locked, nor is an empty one. Checked against OpenSSH 9.2 with
 * a scratch account: "!" and "!*" refused, "*" and "" accepted for key login. Debian's root in container
 * images has "*", so usually nothing is done. When the field starts with "!", it is set to "*" with
 * `usermod -p '*'`: password login stays impossible, key login becomes possible. (`usermod -U` is no good:
 * for a bare "!" it refuses, as that would leave a password-less account.) Only as root, only when needed.
 */
async function ensureAccountNotLocked(username: string): Promise<void> {
  let shadow: string;
  try {
    shadow = readFileSync('/etc/shadow', 'utf8');
  } catch {
    return;
  }
  const entry = shadow.split('\n').find((l) => l.startsWith(username + ':'));
  const field = entry?.split(':')[1];
  if (field === undefined || !field.startsWith('!')) return;
  await execFileP('usermod', ['-p', '*', username]);
}

/** A port nobody listens on right now (the kernel picks it; small race until sshd binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Direct children of `pid`, from /proc (Linux). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the ppid; the command name (field 2) is in parentheses and may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
