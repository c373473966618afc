import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/**
 * Connects the official MCP client to the server's /mcp. With `pinProtocol`, the initialize request
 * asks for that protocol version instead of the SDK's latest (as an older client would), and every
 * negotiated version the server answered is recorded. `headers` go with every request (e.g. the
 * user id Open WebUI forwards).
 */
export async function connectMcp(baseUrl: string, key?: string, pinProtocol?: string, headers: Record<string, string> = {}) {
  const negotiated: string[] = [];
  const sentVersionHeaders: string[] = [];
  const fetchWithPin: typeof fetch = async (input, init) => {
    let body = init?.body;
    if (pinProtocol && typeof body === 'string' && body.includes('"initialize"')) {
      const msg = JSON.parse(body);
      if (msg.method === 'initialize') {
        msg.params.protocolVersion = pinProtocol;
        body = JSON.stringify(msg);
      }
    }
    const headers = new Headers(init?.headers);
    const v = headers.get('mcp-protocol-version');
    if (v) sentVersionHeaders.push(v);
    const res = await fetch(input, { ...init, body });
    if (typeof body === 'string' && body.includes('"initialize"')) {
      const clone = res.clone();
      const text = await clone.text();
      const m = /"protocolVersion":"([^"]+)"/.exec(text);
      if (m) negotiated.push(m[1]);
    }
    return res;
  };
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), {
    requestInit: { headers: key ? { ...headers, authorization: `Bearer ${key}` } : headers },
    fetch: fetchWithPin,
  });
  const client = new Client({ name: 'gpu-host-tools-tests', version: '1.0.0' });
  await client.connect(transport);
  return { client, negotiated, sentVersionHeaders, close: () => client.close() };
}

/** The JSON a tool result carries in its one text block. */
export function resultJson(result: any): any {
  expectOneText(result);
  return JSON.parse(result.content[0].text);
}

function expectOneText(result: any) {
  if (!Array.isArray(result.content) || result.content.length !== 1 || result.content[0].type !== 'text') {
    throw new Error(`expected one text block, got ${JSON.stringify(result.content)}`);
  }
}
