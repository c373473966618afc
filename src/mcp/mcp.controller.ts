import { All, Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthService } from '../common/auth.js';
import { toAppError } from '../common/error-filter.js';
import { AppError, errorBody } from '../common/errors.js';
import { Public } from '../common/operation.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.types.js';
import { isLoopback } from '../config/load-config.js';
import { VERSION } from '../version.js';
import { createMcpServer } from './mcp-server.js';
import { ToolRunner } from './tool-runner.js';

/**
 * MCP over Streamable HTTP, stateless: every POST gets its own server and transport, so nothing is
 * shared between clients, and a client that opens a fresh session per chat turn (Open WebUI) costs
 * nothing to track. Auth is the same bearer key as REST (checked here, not by the REST guard, so the
 * answers stay JSON-RPC friendly).
 */
@ApiExcludeController()
@Public()
@Controller('mcp')
export class McpController {
  private readonly allowedHosts: Set<string>;
  private readonly allowedOrigins: Set<string>;

  constructor(
    private readonly runner: ToolRunner,
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.allowedHosts = new Set(config.allowed_hosts.map((h) => h.toLowerCase()));
    this.allowedOrigins = new Set(config.cors_origins);
  }

  @Post()
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      this.checkHostAndOrigin(req);
      const caller = this.auth.authenticate(req.headers.authorization, req.headers);
      const server = await createMcpServer(this.runner, caller, VERSION);
      const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      const e = toAppError(err);
      if (!res.headersSent) res.status(e.status).json(errorBody(e));
    }
  }

  /** Stateless server: no standalone SSE stream to GET and no session to DELETE. */
  @All()
  other(@Res() res: Response): void {
    res
      .status(405)
      .set('Allow', 'POST')
      .json(errorBody(new AppError(405, 'VALIDATION_FAILED', 'The MCP endpoint is stateless: send JSON-RPC messages with POST.')));
  }

  /**
   * DNS-rebinding guard: a web page on another origin must not drive a server bound to loopback.
   * The Host header must name loopback, the bind address or a configured allowed host; a browser
   * Origin must be one of CORS_ORIGINS or the same host.
   */
  private checkHostAndOrigin(req: Request): void {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const hostname = hostHeader.startsWith('[') ? hostHeader.slice(1, hostHeader.indexOf(']')) : hostHeader.split(':')[0];
    const hostOk =
      isLoopback(hostname) || hostname === this.config.bind_address || this.allowedHosts.has(hostHeader) || this.allowedHosts.has(hostname);
    if (!hostOk) {
      throw new AppError(
        403,
        'FORBIDDEN',
        `Host "${hostHeader}" is not allowed for /mcp; add it to ALLOWED_HOSTS (server.allowed_hosts) if clients use that name.`,
      );
    }
    const origin = req.headers.origin;
    if (origin && !this.allowedOrigins.has(origin)) {
      let originHost = '';
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        // unparsable origin: refused below
      }
      if (originHost !== hostHeader)
        throw new AppError(403, 'FORBIDDEN', `Origin "${origin}" is not allowed for /mcp; add it to CORS_ORIGINS.`);
    }
  }
}
