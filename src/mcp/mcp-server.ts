import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Caller } from '../operations/auth.js';
import { findUiResource, uiResourceList } from '../operations/operation.js';
import type { ToolRunner } from './tool-runner.js';

const INSTRUCTIONS =
  'Tools to manage GPU hosts: GPU status (nvidia-smi), host resources, Ollama models (pull and create run as jobs: poll ollama_job_status), shell commands and files inside a root directory. Tools take `host` when several hosts are configured; list_hosts names them.';

/**
 * A new MCP server for one caller. Never shared between clients or requests: a shared server or
 * transport once leaked responses across clients (GHSA-345p-7cg4-v4c7).
 */
export async function createMcpServer(runner: ToolRunner, caller: Caller, version: string): Promise<Server> {
  // Loaded on first use: the SDK (with zod) costs ~140 ms of start-up for a server only used over REST.
  const [
    { Server },
    { CallToolRequestSchema, ErrorCode, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema },
  ] = await Promise.all([import('@modelcontextprotocol/sdk/server/index.js'), import('@modelcontextprotocol/sdk/types.js')]);
  const server = new Server(
    { name: 'gpu-host-tools', version },
    { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: runner.list(caller) }));
  // The UI resources (MCP Apps views) hold no data: a view gets its data from the tool result it renders.
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: uiResourceList().map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })),
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const resource = findUiResource(request.params.uri);
    if (!resource) {
      const known = uiResourceList()
        .map((r) => r.uri)
        .join(', ');
      throw new McpError(ErrorCode.InvalidParams, `No resource "${request.params.uri}"; the server has: ${known}.`);
    }
    return { contents: [{ uri: resource.uri, mimeType: resource.mimeType, text: resource.text() }] };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const token = request.params._meta?.progressToken;
    const onProgress =
      token === undefined
        ? undefined
        : (p: { progress: number; total?: number; message?: string }) => {
            extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => {
              // The client may have gone away; the job goes on and can be polled.
            });
          };
    return runner.call(caller, request.params.name, request.params.arguments ?? {}, { onProgress, signal: extra.signal });
  });
  return server;
}
