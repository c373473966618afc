import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../operations/operation.js';
import { packageFile } from '../../infra/package-assets.js';
import { UPLOT_CSS, UPLOT_JS } from './chart-library.js';
import { DashboardHub } from './dashboard-hub.js';
import { CHARTS_JS, DASHBOARD_JS } from './render/client.js';
import { dashboardPage } from './render/pages.js';

/** The page may load only its own files and talk only to its own server. */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/**
 * The live dashboard at `/`. The page and its scripts are public and hold no data; the data comes from
 * /dashboard/events, which needs a key with the read scope like any read operation (the guard checks
 * it). Not an operation: no tool for a model, so it stays out of the OpenAPI spec.
 */
@ApiExcludeController()
@Controller()
export class DashboardController {
  constructor(private readonly hub: DashboardHub) {}

  @Public()
  @Get()
  page(@Res() res: Response): void {
    res
      .type('text/html; charset=utf-8')
      .set({ 'Content-Security-Policy': DASHBOARD_CSP, 'Cache-Control': 'no-cache' })
      .send(dashboardPage());
  }

  @Public()
  @Get('dashboard/app.js')
  app(@Res() res: Response): void {
    res.type('text/javascript; charset=utf-8').set('Cache-Control', 'no-cache').send(`${CHARTS_JS}\n${DASHBOARD_JS}`);
  }

  @Public()
  @Get('dashboard/uplot.js')
  uplotJs(@Res() res: Response): void {
    res.type('text/javascript; charset=utf-8').set('Cache-Control', 'max-age=86400').send(packageFile(UPLOT_JS));
  }

  @Public()
  @Get('dashboard/uplot.css')
  uplotCss(@Res() res: Response): void {
    res.type('text/css; charset=utf-8').set('Cache-Control', 'max-age=86400').send(packageFile(UPLOT_CSS));
  }

  /** Server-sent events: an "update" with the rendered body whenever it changes (at most every 500 ms). */
  @Get('dashboard/events')
  events(@Req() req: Request, @Res() res: Response): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // nginx buffers proxied answers unless told not to; a buffered stream is not live.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    const unsubscribe = this.hub.subscribe((update) => res.write(`event: update\ndata: ${JSON.stringify(update)}\n\n`));
    const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    req.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
    });
  }
}
