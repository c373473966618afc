/**
 * The least an HTTP tool server can do for shell_exec, run as its own process like the server under
 * test: node:http with nothing in front, a bearer key compared, the JSON body parsed, one exec on one
 * warm ssh2 connection (refused opens asked again at once, as the raw baseline does), and an answer with
 * shell_exec's fields. No validation, limits, audit, metrics or jail. What it measures is the price of
 * the HTTP hop itself on this machine, which the raw baseline does not pay: the server under test cannot
 * be faster than this, so the rows it feeds say how much of a ratio is the hop and how much is ours.
 *
 * Environment: HTTP_FLOOR_SSHD (JSON: host, port, username, privateKeyPath, hostKeyFingerprint),
 * HTTP_FLOOR_KEY. Prints "listening on <url> " once it listens, as the server does.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { rawConnect, rawExecRetrying } from './raw-ssh.mjs';

const sshd = JSON.parse(process.env.HTTP_FLOOR_SSHD);
const expectedAuth = `Bearer ${process.env.HTTP_FLOOR_KEY}`;
const client = await rawConnect(sshd, { noDelay: true });
const counters = { retries: 0 };

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.headers.authorization !== expectedAuth) return answer(res, 401, { code: 'UNAUTHORIZED' });
  if (req.method !== 'POST' || req.url !== '/shell/exec') return answer(res, 404, { code: 'NOT_FOUND' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let command;
    try {
      command = JSON.parse(Buffer.concat(chunks).toString('utf8')).command;
    } catch {
      return answer(res, 400, { code: 'VALIDATION_FAILED' });
    }
    if (typeof command !== 'string') return answer(res, 400, { code: 'VALIDATION_FAILED' });
    const started = performance.now();
    try {
      const r = await rawExecRetrying(client, command, counters);
      answer(res, 200, {
        host: 'bench',
        command,
        exit_code: r.code,
        signal: null,
        stdout: r.stdout,
        stderr: '',
        stdout_truncated: false,
        stderr_truncated: false,
        stdout_bytes: r.bytes,
        stderr_bytes: 0,
        timed_out: false,
        output_limit_reached: false,
        duration_ms: Math.round(performance.now() - started),
      });
    } catch (err) {
      answer(res, 503, { code: 'HOST_UNREACHABLE', message: String(err?.message ?? err) });
    }
  });
});
// As the server under test: an idle keep-alive connection is kept 5 s (Node's default).
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port} `));
process.once('SIGTERM', () => {
  client.end();
  server.close();
  server.closeAllConnections();
});
