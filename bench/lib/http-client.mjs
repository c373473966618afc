/** The bench's HTTP client: node:http, one keep-alive agent, no-delay on every socket (what a decent client does). */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export function createHttpClient(apiKey) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  /**
   * Drop the idle keep-alive sockets. Before a section that follows a long pause: the server closes an idle
   * connection after 5 s (Node's keepAliveTimeout), and a request sent on it just then fails with
   * ECONNRESET / "socket hang up", a client-side race that says nothing about the server.
   */
  function dropIdleSockets() {
    for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  /** One request with the bench's key; resolves with status, parsed body (if JSON), text and ms. */
  function request(base, method, pathname, { query, body, timeoutMs = 120_000, via = agent } = {}) {
    const url = new URL(pathname, base);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers, agent: via, timeout: timeoutMs }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          // Timed to the last byte of the answer: what the server costs, not the client's JSON.parse.
          const ms = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, body: json, text, ms });
        });
        res.on('error', reject);
      });
      req.on('socket', (s) => s.setNoDelay(true));
      req.on('timeout', () => req.destroy(new Error(`${method} ${pathname}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  return { request, dropIdleSockets, destroy: () => agent.destroy() };
}
