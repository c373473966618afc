import { All, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthService } from '../operations/auth.js';
import { toAppError } from '../common/errors.js';
import { AppError, errorBody } from '../common/errors.js';
import { Public } from '../operations/operation.js';
import { VERSION } from '../version.js';
import { createMcpServer } from './mcp-server.js';
import { ToolRunner } from './tool-runner.js';

/**
 * MCP over Streamable HTTP, stateless: every POST gets its own server and transport, so nothing is
 * shared between clients, and a client that opens a fresh session per chat turn (Open WebUI) costs
 * nothing to track. Auth is the same bearer key as REST (checked here, not by the REST guard, so the
 * answers stay JSON-RPC friendly). Host and Origin are checked before any route (common/host-origin.ts).
 */
@ApiExcludeController()
@Public()
@Controller('mcp')
export class McpController {
  constructor(
    private readonly runner: ToolRunner,
    private readonly auth: AuthService,
  ) {}

  @Post()
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
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
}
