#!/usr/bin/env node
import 'reflect-metadata';
import { ShutdownSignal } from '@nestjs/common';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import { createApp } from './app.js';
import { AuthService, type Caller } from './operations/auth.js';
import { ServerLogger } from './common/server-logger.js';
import type { AppConfig } from './config/config.types.js';
import { EnvFileError, loadEnvFile } from './infra/env-file.js';
import { DEFAULT_ENV_FILE, keygen } from './keygen.js';
import { isWildcard, listenOrExplain, listeningUrl } from './listen.js';
import { createMcpServer } from './mcp/mcp-server.js';
import { ToolRunner } from './mcp/tool-runner.js';
import { OpenApiDocuments } from './openapi/openapi.controller.js';
import { VERSION } from './version.js';

const USAGE = `usage: gpu-host-tools [serve | openapi | mcp-stdio | keygen] [options]
  serve       start the HTTP server (default): REST + OpenAPI + Swagger UI + MCP
  openapi     print the OpenAPI document to stdout and exit (never dials a host)
  mcp-stdio   speak MCP on stdin/stdout (for desktop clients); logs go to stderr
  keygen      generate API_KEY and READONLY_API_KEY into an env file (mode 600) and print them
options:
  --env <file>        serve, mcp-stdio: read KEY=value settings from <file> (variables already set win)
  --out <file>        keygen: the file to write (default ${DEFAULT_ENV_FILE})
  --force             keygen: replace the keys in an existing file (its other lines are kept)`;

// Not --env-file: Node 20 takes that for its own option even after the script name.
const OPTIONS = {
  env: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The caller MCP over stdio runs as: every scope (the desktop user launched the process), or the scopes
 * of the configured key MCP_STDIO_KEY names. A key that matches nothing stops the start, naming the variable.
 */
function stdioCaller(auth: AuthService, config: AppConfig): Caller {
  const key = config.mcp_stdio_key;
  if (!key) return { keyName: 'stdio', scopes: new Set(['read', 'write', 'shell']) };
  if (config.keys.length === 0) {
    throw new ConfigError(
      'MCP_STDIO_KEY: is set but no API keys are configured (API_KEY, READONLY_API_KEY or keys: in CONFIG_FILE), so it selects nothing; configure that key too, or unset MCP_STDIO_KEY to run with every scope',
    );
  }
  try {
    return auth.authenticate(`Bearer ${key.trim()}`);
  } catch {
    throw new ConfigError(
      'MCP_STDIO_KEY: matches none of the configured keys (API_KEY, READONLY_API_KEY, keys: in CONFIG_FILE); copy the key exactly, or unset MCP_STDIO_KEY to run with every scope',
    );
  }
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`gpu-host-tools: ${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { values, positionals } = parsed;
  const command = values.help ? 'help' : (positionals[0] ?? 'serve');
  if (positionals.length > 1) {
    console.error(`gpu-host-tools: unexpected argument ${positionals[1]}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (values.env && (command === 'serve' || command === 'mcp-stdio')) loadEnvFile(values.env);
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
      const address = await listenOrExplain(app, config);
      const url = listeningUrl(address);
      const docs = isWildcard(address) ? `every interface of this machine; docs at /docs` : `docs at ${url}/docs`;
      console.log(`gpu-host-tools listening on ${url} (${docs}) in ${Math.round(performance.now() - started)} ms`);
      return;
    }
    case 'keygen':
      console.log(keygen(values.out, values.force ?? false));
      return;
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
      // Checked before the application starts, so a mistake is the only line printed.
      const caller = stdioCaller(new AuthService(config), config);
      const app = await createApp(config, new ServerLogger(config.log_level, 'stderr'));
      const server = await createMcpServer(app.get(ToolRunner), caller, VERSION);
      const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
      const transport = new StdioServerTransport();
      const shutdown = () => void app.close().finally(() => process.exit(0));
      transport.onclose = shutdown;
      process.stdin.once('end', shutdown); // the client closed our stdin: it is done with us
      await server.connect(transport);
      return;
    }
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

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`gpu-host-tools: configuration error: ${err.message}`);
  } else if (err instanceof EnvFileError) {
    console.error(`gpu-host-tools: ${err.message}`);
  } else {
    console.error(`gpu-host-tools: failed to start: ${(err as Error)?.message ?? String(err)}`);
  }
  process.exit(1);
});
