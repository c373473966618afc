import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { resolve } from 'node:path';
import { expect } from 'vitest';

export interface RunningServer {
  url: string;
  process: ChildProcess;
  /** Everything the server printed, for assertions on logs. */
  output: () => string;
  stop: () => Promise<void>;
}

/** The built CLI as shipped (the bundle); tests run the real server process (see vitest.config.ts). */
export const CLI = resolve(process.env.GHT_DIST ?? 'dist/bundle', 'cli.js');

/** What every spawned server inherits: TMPDIR keeps its temporary files inside the run's directory. */
export const BASE_ENV = { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER, TMPDIR: process.env.TMPDIR };

/**
 * Starts `node dist/cli.js serve` with only the given environment (plus PATH and HOME) on a free port
 * and resolves once it prints its URL.
 */
export function startServer(env: Record<string, string | undefined> = {}, timeoutMs = 15_000, args: string[] = []): Promise<RunningServer> {
  return startNodeServer([CLI, 'serve', ...args], { PORT: '0', ...env }, timeoutMs);
}

/**
 * Runs `node <argv>` with only the given environment (plus BASE_ENV) and resolves once it prints
 * "listening on <url> ", as the server does (the bench's bare HTTP server prints the same).
 */
export async function startNodeServer(argv: string[], env: Record<string, string | undefined>, timeoutMs = 15_000): Promise<RunningServer> {
  const child = spawn(process.execPath, argv, {
    env: { ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = () => {
      const m = /listening on (http:\/\/\S+?) /.exec(output);
      if (m) {
        clearTimeout(timer);
        // Once started, the server logs a line per audited call: searching all of its output again on
        // each of them would cost this process (and a bench sharing the machine's cores) more per line.
        child.stdout!.off('data', onData);
        // A wildcard bind (0.0.0.0, ::) is reached at loopback.
        resolveUrl(m[1].replace(/\[::1?\]|0\.0\.0\.0/, '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs the CLI to completion (e.g. a bad configuration) and returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 15_000) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** fetch JSON with an optional bearer key; returns status and parsed body. */
export async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { key?: string; query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
) {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: jsonOrUndefined(text), text, headers: res.headers };
}

/**
 * Asserts that an answer is the project's REST error shape and nothing more: the HTTP status, exactly
 * the fields {statusCode, error, code, message}, statusCode equal to the status, error the standard
 * reason phrase (node:http's table, not the server's own, so a wrong phrase in the server is caught),
 * and a message that is a non-empty string without a stack-trace line.
 */
export function expectError(res: { status: number; body: any; text?: string }, status: number, code: string): void {
  const what = res.text ?? JSON.stringify(res.body);
  expect(res.status, what).toBe(status);
  // toEqual, not toMatchObject: a field beyond the four is a defect too.
  expect(res.body, what).toEqual({ statusCode: status, error: STATUS_CODES[status], code, message: expect.any(String) });
  expect(res.body.message.trim(), what).not.toBe('');
  expect(res.body.message, what).not.toMatch(/^\s*at \S/m); // a stack frame ("    at fn (file:1:2)")
}

/** The parsed JSON of an answer's text, undefined when it is not JSON (an HTML page, a bare 431, SSE). */
export function jsonOrUndefined(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Environment for a single host named `name` reached over SSH at the given test sshd. */
export function sshEnv(
  sshd: { host: string; port: number; username: string; privateKeyPath: string; knownHostsPath: string },
  name = 'whisper',
): Record<string, string> {
  return {
    HOST_NAME: name,
    SSH_HOST: sshd.host,
    SSH_PORT: String(sshd.port),
    SSH_USER: sshd.username,
    SSH_PRIVATE_KEY_PATH: sshd.privateKeyPath,
    SSH_KNOWN_HOSTS: sshd.knownHostsPath,
  };
}
