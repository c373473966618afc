import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';
import type { LogLevelSetting } from '../config/config.types.js';

/** What each LOG_LEVEL setting prints: the level and everything more severe. */
const LEVELS: Record<LogLevelSetting, LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * Nest's start-up chatter (one line per module, controller and route, ~55 in all, and "successfully
 * started" before the port is even bound) is moved to debug: at the default level the only start-up line
 * is the CLI's "listening on", printed once the server really listens.
 */
const START_UP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** The server's console logger (stdout, or stderr for MCP stdio where stdout carries the protocol). */
export class ServerLogger extends ConsoleLogger {
  constructor(
    level: LogLevelSetting = 'log',
    private readonly stream: 'stdout' | 'stderr' = 'stdout',
    options: ConsoleLoggerOptions = {},
  ) {
    super({ prefix: 'gpu-host-tools', ...options, logLevels: LEVELS[level] ?? LEVELS.log });
  }

  override log(message: unknown, ...params: unknown[]): void {
    if (START_UP_CONTEXTS.has(String(params[params.length - 1]))) super.debug(message, ...params);
    else super.log(message, ...params);
  }

  override error(message: unknown, ...params: unknown[]): void {
    // A failed listen (port in use, address not on this machine) is reported once by the CLI, naming the
    // setting to change; Nest's own copy of it would be a second, less helpful line.
    if (params[params.length - 1] === 'NestApplication' && /^Error: listen E[A-Z]+/.test(String(message))) return;
    super.error(message, ...params);
  }

  protected override printMessages(...args: Parameters<ConsoleLogger['printMessages']>): void {
    const [messages, context, logLevel, stream, ...rest] = args;
    const target = this.stream === 'stderr' ? 'stderr' : (stream ?? 'stdout');
    if (messages.length < 2 || this.options.json || this.options.forceConsole) {
      super.printMessages(messages, context, logLevel, target, ...rest);
      return;
    }
    // Several lines at once (the audit's batch): one write for all of them, not one each. A blocking
    // write to a pipe wakes its reader each time.
    const pid = this.formatPid(process.pid);
    const contextMessage = this.formatContext(context ?? '');
    const level = (logLevel ?? 'log').toUpperCase().padStart(7, ' ');
    let text = '';
    for (const message of messages) {
      text += this.formatMessage(logLevel ?? 'log', message, pid, level, contextMessage, this.updateAndGetTimestampDiff());
    }
    process[target].write(text);
  }
}
