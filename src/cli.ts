#!/usr/bin/env node
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { ConfigError, loadConfig } from './config/load-config.js';
import { createApp, StderrLogger } from './app.js';
import { AuthService, type Caller } from './common/auth.js';
import { createMcpServer } from './mcp/mcp-server.js';
import { ToolRunner } from './mcp/tool-runner.js';
import { OpenApiDocuments } from './openapi/openapi.controller.js';
import { VERSION } from './version.js';

const USAGE = `usage: gpu-host-tools [serve | openapi | mcp-stdio]
  serve       start the HTTP server (default): REST + OpenAPI + Swagger UI + MCP
  openapi     print the OpenAPI document to stdout and exit (never dials a host)
  mcp-stdio   speak MCP on stdin/stdout (for desktop clients); logs go to stderr`;

async function main(command = 'serve'): Promise<void> {
  switch (command) {
    case 'serve': {
      const started = performance.now();
      const config = loadConfig();
      const app = await createApp(config);
      app.enableShutdownHooks();
      await app.listen(config.port, config.bind_address);
      const url = await app.getUrl();
      console.log(`gpu-host-tools listening on ${url} (docs at ${url}/docs) in ${Math.round(performance.now() - started)} ms`);
      return;
    }
    case 'openapi': {
      // Spec generation needs no hosts or keys: build with an empty local configuration.
      const app = await createApp(loadConfig({ HOME: process.env.HOME }), false);
      process.stdout.write(JSON.stringify(app.get(OpenApiDocuments).get('full'), null, 2) + '\n');
      await app.close();
      return;
    }
    case 'mcp-stdio': {
      // stdout carries the protocol: every log line goes to stderr.
      const config = loadConfig();
      const stdioKey = process.env.MCP_STDIO_KEY;
      // Without configured keys there is nothing to look the key up in, and an open server would
      // grant it every scope: the opposite of what setting it asks for.
      if (stdioKey && config.keys.length === 0) {
        throw new ConfigError(
          'MCP_STDIO_KEY: is set but no API keys are configured, so it cannot limit the scopes; configure that key (API_KEY, READONLY_API_KEY or keys: in CONFIG_FILE) or unset MCP_STDIO_KEY',
        );
      }
      // The desktop user who launched this process is trusted with every scope, unless MCP_STDIO_KEY
      // names a configured key whose scopes should apply instead (e.g. a read-only key).
      const caller: Caller = stdioKey
        ? stdioCaller(new AuthService(config), stdioKey)
        : { keyName: 'stdio', scopes: new Set(['read', 'write', 'shell']) };
      const app = await createApp(config, new StderrLogger({ prefix: 'gpu-host-tools' }));
      const server = await createMcpServer(app.get(ToolRunner), caller, VERSION);
      const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
      const transport = new StdioServerTransport();
      const shutdown = () => void app.close().finally(() => process.exit(0));
      transport.onclose = shutdown;
      process.stdin.once('end', shutdown); // the client closed our stdin: it is done with us
      await server.connect(transport);
      return;
    }
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

function stdioCaller(auth: AuthService, key: string): Caller {
  // Checked before the application starts, so a mistake is the only line printed.
  try {
    return auth.authenticate(`Bearer ${key}`);
  } catch {
    throw new ConfigError('MCP_STDIO_KEY: matches none of the configured keys; set it to one of them (e.g. READONLY_API_KEY) or unset it');
  }
}

main(process.argv[2]).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`gpu-host-tools: configuration error: ${err.message}`);
  } else {
    console.error(`gpu-host-tools: failed to start: ${(err as Error)?.message ?? String(err)}`);
  }
  process.exit(1);
});
