/**
 * What every fuzz file shares: the server under test (with a fake Ollama and a temp files root, so even a
 * validation bug cannot do damage), the operations and tools it serves, senders for REST and raw MCP, and the
 * checks that an answer is the validator's refusal in the documented error shape.
 */
import { expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeOllama } from '../fake-ollama.js';
import { connectMcp } from '../mcp-client.js';
import { call, jsonOrUndefined, startServer } from '../server.js';
import { unbreakable } from './invalid-inputs.js';
import { type Op, operationsOf } from './schema.js';

export const FULL = 'full-key-0123456789abcdef';
export const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
/** The server's JSON body limit (src/app.ts BODY_LIMIT_BYTES). */
export const BODY_LIMIT = 16 * 1024 * 1024;

export interface Answer {
  status: number;
  body: any;
  text: string;
}

export type FuzzTarget = Awaited<ReturnType<typeof startFuzzTarget>>;

/** Starts the server and reads its spec and tool list (at collection time, so the tests are made from them). */
export async function startFuzzTarget() {
  const filesRoot = mkdtempSync(path.join(os.tmpdir(), 'ght-fuzz-root-'));
  const ollama = await startFakeOllama();
  // GHT_DEBUG_EVENT_LOOP: the server measures its own event-loop delay and reports it on SIGUSR2 (src/cli.ts).
  const server = await startServer({
    API_KEY: FULL,
    FILES_ROOT: filesRoot,
    OLLAMA_URL: ollama.url,
    SHELL_ENABLED: 'true',
    GHT_DEBUG_EVENT_LOOP: '1',
  });
  const doc = (await call(server.url, 'GET', '/openapi.json')).body;
  const mcp = await connectMcp(server.url, FULL);
  /** Tool input schemas as the MCP client sees them (path, query and body fields in one object). */
  const tools = new Map((await mcp.client.listTools()).tools.map((t) => [t.name, t]));

  async function send(
    method: string,
    urlPath: string,
    init: { body?: string | Uint8Array<ArrayBuffer>; contentType?: string; key?: string | null } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (init.key !== null) headers.authorization = `Bearer ${init.key ?? FULL}`;
    if (init.contentType) headers['content-type'] = init.contentType;
    const res = await fetch(server.url + urlPath, { method, headers, body: init.body });
    const text = await res.text();
    return { status: res.status, body: jsonOrUndefined(text), text };
  }

  /**
   * tools/call as a raw JSON-RPC request to the stateless /mcp endpoint (no initialize needed), for arguments
   * the SDK client cannot carry (keys it would drop, nesting it cannot serialise). Returns the SSE/JSON answer.
   */
  async function mcpRawText(tool: string, argumentsJson: string): Promise<Answer> {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${FULL}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":${argumentsJson}}}`,
    });
    const text = await res.text();
    const data = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '');
    return { status: res.status, body: jsonOrUndefined(data), text };
  }

  return {
    server,
    filesRoot,
    ops: operationsOf(doc) as Op[],
    tools,
    mcp,
    send,
    mcpRawText,
    // An own "__proto__" key (made by JSON.parse) survives JSON.stringify, which writes own keys.
    mcpRaw: (tool: string, args: Record<string, unknown>) => mcpRawText(tool, JSON.stringify(args)),
    async stop() {
      await mcp.close();
      await server.stop();
      await ollama.stop();
      rmSync(filesRoot, { recursive: true, force: true });
    },
  };
}

/** Percent-encodes every byte but the unreserved ones; lone surrogates as their WTF-8 bytes (what a broken client sends). */
export function pct(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (cp < 0x80 && /[A-Za-z0-9\-._~]/.test(String.fromCharCode(cp))) {
      out += String.fromCharCode(cp);
      continue;
    }
    const bytes =
      cp < 0x80
        ? [cp]
        : cp < 0x800
          ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
          : cp < 0x10000
            ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
            : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    for (const b of bytes) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The REST request for an input: path parameters in the path, the rest in the query (GET) or the body. */
export function restRequest(op: Op, values: Record<string, unknown>): { urlPath: string; body?: string } {
  const inPath = new Set(op.fields.filter((f) => f.in === 'path').map((f) => f.name));
  const inQuery = new Set(op.fields.filter((f) => f.in === 'query').map((f) => f.name));
  const urlPath = op.path.replace(/\{(\w+)\}/g, (_, n: string) => pct(String(values[n])));
  const query: string[] = [];
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (inPath.has(k)) continue;
    if (inQuery.has(k) || !op.hasBody) {
      for (const item of Array.isArray(v) ? v : [v]) query.push(`${pct(k)}=${pct(String(item))}`);
    } else {
      body[k] = v;
    }
  }
  return { urlPath: urlPath + (query.length ? `?${query.join('&')}` : ''), body: op.hasBody ? JSON.stringify(body) : undefined };
}

export const REFUSAL_CODES = ['VALIDATION_FAILED', 'TOO_LARGE'];

/** A REST refusal: 4xx, exactly the documented shape, and the validator's code (the input never ran). */
export function checkRefusal(a: Answer, what: string, codes = REFUSAL_CODES): void {
  const ctx = `${what} -> ${a.status} ${a.text.slice(0, 300)}`;
  if (a.status >= 500) throw new Error(`5xx for invalid input: ${ctx}`);
  if (a.status < 400) throw new Error(`invalid input was accepted: ${ctx}`);
  if (!a.body || typeof a.body !== 'object') throw new Error(`error body is not JSON: ${ctx}`);
  const keys = Object.keys(a.body).sort().join(',');
  if (keys !== 'code,error,message,statusCode') throw new Error(`error body has keys ${keys}: ${ctx}`);
  if (a.body.statusCode !== a.status || typeof a.body.error !== 'string' || typeof a.body.message !== 'string' || !a.body.message) {
    throw new Error(`error body does not match its status: ${ctx}`);
  }
  if (!codes.includes(a.body.code)) throw new Error(`invalid input got past validation (${a.body.code}): ${ctx}`);
  if (/\n\s+at /.test(a.body.message)) throw new Error(`stack trace in message: ${ctx}`);
}

/** The same for an MCP tool result: isError, one text block holding that JSON, structuredContent equal. */
export function checkToolRefusal(result: any, what: string, codes = REFUSAL_CODES): void {
  const text = result?.content?.[0]?.text;
  const ctx = `${what} -> ${JSON.stringify(result).slice(0, 300)}`;
  if (result?.isError !== true) throw new Error(`invalid input was accepted: ${ctx}`);
  if (result.content.length !== 1 || result.content[0].type !== 'text') throw new Error(`not one text block: ${ctx}`);
  const body = JSON.parse(text);
  checkRefusal({ status: body.statusCode, body, text }, what, codes);
  if (JSON.stringify(result.structuredContent) !== JSON.stringify(body)) throw new Error(`structuredContent differs from the text: ${ctx}`);
}

/** checkToolRefusal for a raw answer: HTTP 200 carrying a JSON-RPC result that is an isError tool result. */
export async function checkRawToolRefusal(answer: Promise<Answer> | Answer, what: string): Promise<void> {
  const a = await answer;
  if (a.status !== 200 || !a.body?.result) throw new Error(`no tool result: ${what} -> ${a.status} ${a.text.slice(0, 300)}`);
  checkToolRefusal(a.body.result, what);
}

/**
 * The event loop kept up with a long run of generated inputs. The delay's p99 is only a fair figure over many
 * samples (a thousand in the files that run it): over the few seconds of the hand-made cases a couple of
 * scheduler hiccups on a busy machine would be the p99. The bound is far above that noise and far below
 * what an input whose cost grows faster than its size does (seconds).
 */
export function itKeptTheEventLoopResponsive(target: FuzzTarget): void {
  const { server } = target;
  it('kept the event loop responsive throughout (p99 delay under 250 ms, measured in the server)', async () => {
    const seen = server.output().length;
    server.process.kill('SIGUSR2');
    let report: RegExpExecArray | null = null;
    for (let i = 0; i < 100 && !report; i++) {
      await new Promise((r) => setTimeout(r, 50));
      report = /event-loop-delay (\{.*\})/.exec(server.output().slice(seen));
    }
    expect(report, 'the server printed no event-loop-delay report').not.toBeNull();
    const delay = JSON.parse(report![1]);
    console.info(`fuzz: event-loop p99 ${delay.p99_ms} ms, max ${delay.max_ms} ms over ${delay.samples} samples`);
    expect(delay.p99_ms).toBeLessThan(250);
  });
}

/** The closing check of every fuzz file: the server is up and nothing it was sent stuck to it. */
export function itIsStillHealthy(target: FuzzTarget): void {
  const { server } = target;
  it('is still healthy afterwards, with no prototype pollution visible', async () => {
    // A field no invalid value could be generated for is only fuzzed through the other fields' mutations.
    if (unbreakable.size) console.info(`fuzz: no invalid values generated for ${[...unbreakable].join(', ')}`);
    expect(server.process.exitCode).toBeNull();
    expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);
    const hosts = await call(server.url, 'GET', '/hosts', { key: FULL });
    expect(hosts.status).toBe(200);
    expect(hosts.body.hosts.map((h: any) => h.name)).toEqual(['local']);
    expect(JSON.stringify(hosts.body)).not.toContain('polluted');
  });
}
