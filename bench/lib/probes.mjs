/**
 * The timed calls more than one scenario makes. Each returns a function that makes the call once, checks
 * the answer and returns its duration in ms (HTTP: to the last byte of the answer).
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { check } from './log.mjs';
import { rawConnect, rawExec } from './raw-ssh.mjs';

/**
 * shell_exec of `command` on the server under test (or on another server at `url`: the bare HTTP
 * floor); `expect(body)` says whether the answer is right.
 */
export const httpShell =
  (ctx, command, expect, url = ctx.server.url) =>
  async () => {
    const r = await ctx.http.request(url, 'POST', '/shell/exec', { body: { command } });
    check(r.status === 200 && expect(r.body), `shell_exec ${command}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.ms;
  };

/** One exec on a warm raw ssh2 connection; `expect(stdout)` says whether the output is right. */
export const rawRun = (client, command, expect) => async () => {
  const t = performance.now();
  const r = await rawExec(client, command);
  const ms = performance.now() - t;
  check(r.code === 0 && expect(r.stdout), `raw exec of ${command.slice(0, 40)}: code ${r.code}`);
  return ms;
};

/** One command in the raw client's warm shell (raw-ssh.mjs rawWarmShell). */
export const rawWarmRun = (shell, command) => async () => {
  const t = performance.now();
  const r = await shell.run(command);
  const ms = performance.now() - t;
  check(r.code === 0, `raw warm shell ${command.slice(0, 40)}: code ${r.code}`);
  return ms;
};

/** The seed's way: a new ssh2 connection (ssh2's own socket), one exec, close. Timed until the result. */
export const connectPerCall = (ctx, command) => async () => {
  const t = performance.now();
  const c = await rawConnect(ctx.sshd, { noDelay: false });
  const r = await rawExec(c, command);
  const ms = performance.now() - t;
  c.end();
  check(r.code === 0, 'connect-per-call exec');
  await Promise.race([once(c, 'close'), sleep(2000)]).catch(() => {});
  return ms;
};
