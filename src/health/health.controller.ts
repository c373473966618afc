import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { withTimeout } from '../common/async.js';
import { Public } from '../common/operation.js';
import { HostRegistry } from '../infra/host-registry.js';

const READY_TIMEOUT_MS = 5_000;

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(private readonly hosts: HostRegistry) {}

  /** Liveness: answers as long as the process serves HTTP; never touches a host. */
  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Readiness: every host answers a connection check. Public like /healthz (probes send no key), so
   * it says only which host is reachable, not why not (error texts name addresses and users).
   */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const hosts = await Promise.all(
      this.hosts.all().map(async (h) => {
        try {
          await withTimeout(h.transport.probe(), READY_TIMEOUT_MS);
          return { name: h.name, reachable: true };
        } catch {
          return { name: h.name, reachable: false };
        }
      }),
    );
    const ready = hosts.every((h) => h.reachable);
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', hosts };
  }
}
