/**
 * Warm shells (src/infra/ssh/warm-shell.ts) against real OpenSSH: what they must keep equal to a session
 * per command (environment, sessions of their own, stdin at EOF), and what they do on their own terms:
 * reuse, background jobs, a command that ends its own shell, output that arrives while a shell is idle,
 * and hosts without setsid(1). The rest of the exec semantics is the transport contract, run in both modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshTransport } from '../../src/infra/ssh/ssh-transport.js';
import type { ExecOptions } from '../../src/infra/transport.js';
import { sharedSshd } from '../support/context.js';
import { pgrep } from '../support/processes.js';
import { countExecOpens, sshTransportTo } from '../support/ssh-transport.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { waitFor } from '../support/waiting.js';

const defaults: ExecOptions = { timeoutMs: 10_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024 };

/** A `sleep` argument nobody else uses, to find and kill the process by (sleep reads 30.000xxxxxx as 30 s). */
const tag = () => `30.000${Math.floor(Math.random() * 1e6)}`;

describe('warm shells (shared sshd)', () => {
  let warm: SshTransport;
  let plain: SshTransport;

  beforeAll(() => {
    warm = sshTransportTo(sharedSshd());
    plain = sshTransportTo(sharedSshd(), { warmShells: false });
  });
  afterAll(async () => {
    await warm.close();
    await plain.close();
  });

  it('runs twenty commands one after the other in one session', async () => {
    const t = sshTransportTo(sharedSshd());
    const opens = countExecOpens();
    try {
      for (let i = 0; i < 20; i++) expect((await t.exec(`echo ${i}`, defaults)).stdout).toBe(`${i}\n`);
      expect(opens.opens).toBe(1);
    } finally {
      opens.restore();
      await t.close();
    }
  });

  it('a command sees the same environment, directory and limits as on a session of its own', async () => {
    // Everything but the variables that name the process or the SSH client's port.
    const probe = 'env | grep -v -e "^_=" -e "^SSH_CLIENT=" -e "^SSH_CONNECTION=" | sort; pwd; umask; ulimit -n; echo "$-"';
    const [a, b] = [await warm.exec(probe, defaults), await plain.exec(probe, defaults)];
    expect(a.stdout).toBe(b.stdout);
    expect(a).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('each command has a session and process group of its own, and stdin at EOF', async () => {
    const r = await warm.exec('set -- $(cut -d" " -f5,6 /proc/$$/stat); echo "$$ $1 $2"; cat; echo done', defaults);
    const [pid, group, session] = r.stdout.split('\n')[0]!.split(' ');
    expect([group, session]).toEqual([pid, pid]);
    expect(r.stdout.endsWith('done\n')).toBe(true);
    const next = await warm.exec('echo $$', defaults);
    expect(next.stdout).not.toBe(`${pid}\n`);
  });

  it('a background job that lets go of the output returns at once and keeps running; the next command gets a fresh shell', async () => {
    const t = sshTransportTo(sharedSshd());
    const opens = countExecOpens();
    const m = tag();
    try {
      const r = await t.exec(`sleep ${m} >/dev/null 2>&1 & echo started`, defaults);
      expect(r).toMatchObject({ exitCode: 0, stdout: 'started\n', timedOut: false });
      expect(r.durationMs).toBeLessThan(5_000);
      expect(pgrep(`sleep ${m}`)).toHaveLength(1);
      expect((await t.exec('echo next', defaults)).stdout).toBe('next\n');
      // The shell the job was started from was retired: the second command opened another.
      expect(opens.opens).toBe(2);
    } finally {
      opens.restore();
      await t.close();
      for (const pid of pgrep(`sleep ${m}`)) process.kill(pid, 'SIGKILL');
    }
  });

  it('output a background job writes after its command returned goes with that command, not the next', async () => {
    const r = await warm.exec('(sleep 0.3; echo late) & echo early', defaults);
    // The job holds the output: the call waits for it, as a session of its own would.
    expect(r).toMatchObject({ exitCode: 0, stdout: 'early\nlate\n' });
    expect((await warm.exec('echo mine', defaults)).stdout).toBe('mine\n');
  });

  it("output from a process that left the command's session, arriving while the shell is idle, retires that shell", async () => {
    const t = sshTransportTo(sharedSshd());
    const opens = countExecOpens();
    try {
      // The stray has left the session (setsid) before the command ends, so nothing tells the shell it still writes.
      expect((await t.exec("setsid sh -c 'sleep 0.5; echo stray' & sleep 0.2; echo first", defaults)).stdout).toBe('first\n');
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await t.exec('echo second', defaults)).stdout).toBe('second\n');
      expect(opens.opens).toBe(2);
    } finally {
      opens.restore();
      await t.close();
    }
  });

  it('a command that kills its own warm shell ends with what it printed, and the next command runs', async () => {
    const r = await warm.exec('echo before; kill -KILL $PPID; sleep 1; echo after', defaults);
    expect(r.stdout.startsWith('before\n')).toBe(true);
    expect(r.timedOut).toBe(false);
    expect((await warm.exec('echo alive', defaults)).stdout).toBe('alive\n');
  });

  it('200 concurrent commands all answer, each with its own output', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => warm.exec(`echo call-${i}; echo err-${i} >&2`, defaults)));
    expect(results.map((r) => [r.exitCode, r.stdout, r.stderr])).toEqual(results.map((_, i) => [0, `call-${i}\n`, `err-${i}\n`]));
  });
});

describe('warm shells on a host without setsid(1) (own sshd, PATH without it)', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    // The first SetEnv line wins: PATH names an empty directory, so only shell builtins are found.
    sshd = await startSshd({ extraConfig: ['SetEnv PATH=/nonexistent-ght-path SHLVL=1'] });
  });
  afterAll(() => sshd?.dispose());

  it('every command runs on a session of its own, and the host is asked only once per connection', async () => {
    const t = sshTransportTo(sshd);
    const opens = countExecOpens();
    try {
      for (let i = 0; i < 3; i++) expect(await t.exec(`echo $((${i} * 7))`, defaults)).toMatchObject({ exitCode: 0, stdout: `${i * 7}\n` });
      // One warm-shell attempt (it exits 97), then a channel per command.
      expect(opens.opens).toBe(4);
    } finally {
      opens.restore();
      await t.close();
    }
  });
});

describe('warm shells after sshd restarts', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(() => sshd?.dispose());

  it('a dropped connection takes its idle shells with it; the next command dials and opens a new one', async () => {
    const t = sshTransportTo(sshd, { backoffInitialMs: 50, backoffMaxMs: 50 });
    try {
      expect((await t.exec('echo one', defaults)).stdout).toBe('one\n');
      await sshd.stop();
      await sshd.restart();
      await waitFor(
        'a command to run again after the restart',
        async () => (await t.exec('echo two', defaults).catch(() => undefined))?.stdout === 'two\n',
        10_000,
      );
      expect(t.status().reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});

describe('warm shells and SFTP on an sshd with MaxSessions 1', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd({ extraConfig: ['MaxSessions 1'] });
  });
  afterAll(() => sshd?.dispose());

  it('an idle warm shell holding the only session is given back for SFTP, and commands run again after', async () => {
    const t = sshTransportTo(sshd);
    try {
      expect((await t.exec('echo before', defaults)).stdout).toBe('before\n');
      const sftp = await t.sftp();
      const names = await new Promise<string[]>((resolve, reject) =>
        sftp.readdir('/', (err, list) => (err ? reject(err) : resolve(list.map((e) => e.filename)))),
      );
      expect(names).toContain('tmp');
      // SFTP now holds the session: a command waits for it, then fails saying why (as with a session per command).
      sftp.end();
      await waitFor(
        'the SFTP session to close',
        async () => (await t.exec('echo after', defaults).catch(() => undefined))?.stdout === 'after\n',
        10_000,
      );
    } finally {
      await t.close();
    }
  });

  it('a streamed command (a channel of its own, as the GPU sampler) gets the session an idle warm shell held', async () => {
    const t = sshTransportTo(sshd);
    try {
      expect((await t.exec('echo warm', defaults)).stdout).toBe('warm\n');
      const chunks: string[] = [];
      const r = await t.exec('echo streamed', { ...defaults, onStdout: (d) => chunks.push(String(d)) });
      expect(r.stdout).toBe('streamed\n');
      expect(chunks.join('')).toBe('streamed\n');
      expect((await t.exec('echo warm again', defaults)).stdout).toBe('warm again\n');
    } finally {
      await t.close();
    }
  });
});
