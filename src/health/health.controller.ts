import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../operations/operation.js';
import { HostRegistry } from '../infra/host-registry.js';

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
      this.hosts.all().map(async (h) => ({ name: h.name, reachable: (await this.hosts.check(h)).reachable })),
    );
    const ready = hosts.every((h) => h.reachable);
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', hosts };
  }
}
