#!/usr/bin/env node
import 'reflect-metadata';
import { ShutdownSignal } from '@nestjs/common';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
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
      const debugEventLoop = process.env.GHT_DEBUG_EVENT_LOOP === '1';
      // Nest shuts down on SIGUSR2 too; the debug report takes that signal instead.
      app.enableShutdownHooks(debugEventLoop ? Object.values(ShutdownSignal).filter((s) => s !== ShutdownSignal.SIGUSR2) : undefined);
      forceExitAfterSignal();
      if (debugEventLoop) reportEventLoopDelayOnSignal();
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
      const app = await createApp(config, new StderrLogger({ prefix: 'gpu-host-tools' }));
      // The desktop user who launched this process is trusted with every scope, unless MCP_STDIO_KEY
      // names a configured key whose scopes should apply instead (e.g. a read-only key).
      const auth = app.get(AuthService);
      const caller: Caller = process.env.MCP_STDIO_KEY
        ? auth.authenticate(`Bearer ${process.env.MCP_STDIO_KEY}`)
        : { keyName: 'stdio', scopes: new Set(['read', 'write', 'shell']) };
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

/** How long a SIGTERM/SIGINT waits for requests in flight (a 400 s shell command, an SSH call) before exiting anyway. */
const SHUTDOWN_GRACE_MS = 3000;

/**
 * Nest's shutdown hooks close the HTTP server, which waits for every open request; a long shell_exec or
 * a wedged SSH call would then keep the process alive past any orchestrator's patience. The timer is
 * unref'd, so a clean shutdown that finishes first is not held up by it.
 */
function forceExitAfterSignal(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        console.error(`gpu-host-tools: requests still running ${SHUTDOWN_GRACE_MS / 1000} s after ${signal}; exiting without them`);
        process.exit(signal === 'SIGTERM' ? 143 : 130);
      }, SHUTDOWN_GRACE_MS).unref();
    });
  }
}

/**
 * Debugging and tests only (GHT_DEBUG_EVENT_LOOP=1): the event loop's delay, measured inside the server.
 * Each SIGUSR2 prints one line `event-loop-delay {"p99_ms":..,"max_ms":..,"mean_ms":..,"samples":..}` on
 * stdout with what was measured since the previous one.
 */
function reportEventLoopDelayOnSignal(): void {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  process.on('SIGUSR2', () => {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const stats = {
      p99_ms: ms(histogram.percentile(99)),
      max_ms: ms(histogram.max),
      mean_ms: ms(histogram.mean),
      samples: histogram.count,
    };
    histogram.reset();
    console.log(`event-loop-delay ${JSON.stringify(stats)}`);
  });
}

main(process.argv[2]).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`gpu-host-tools: configuration error: ${err.message}`);
  } else {
    console.error(`gpu-host-tools: failed to start: ${(err as Error)?.message ?? String(err)}`);
  }
  process.exit(1);
});
