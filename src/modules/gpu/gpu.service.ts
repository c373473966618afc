import { Injectable } from '@nestjs/common';
import { HostRegistry, type Host } from '../../infra/host-registry.js';
import type { GpuStatusInput, GpuStatusResult } from './dto/gpu.dto.js';
import { buildGpuStatusCommand, parseGpuStatus, type GpuStatus } from './nvidia-smi.js';

@Injectable()
export class GpuService {
  /**
   * Driver and CUDA version per host, from `nvidia-smi --version`. They only change with the driver,
   * so later calls skip that third nvidia-smi run; the driver_version column of every GPU query tells
   * when the driver changed and the versions must be read again.
   */
  private readonly versions = new Map<string, Pick<GpuStatus, 'driver_version' | 'cuda_version' | 'query_driver_version'>>();

  constructor(private readonly hosts: HostRegistry) {}

  async gpu_status(input: GpuStatusInput): Promise<GpuStatusResult> {
    const host = this.hosts.get(input.host);
    const cached = this.versions.get(host.name);
    let status = await this.read(host, !cached);
    if (cached && status.query_driver_version === cached.query_driver_version) {
      status = { ...status, driver_version: cached.driver_version, cuda_version: cached.cuda_version };
    } else {
      if (cached) status = await this.read(host, true); // the driver changed (upgrade and reboot)
      const { driver_version, cuda_version, query_driver_version } = status;
      this.versions.set(host.name, { driver_version, cuda_version, query_driver_version });
    }
    const { query_driver_version: _, ...reading } = status;
    return { host: host.name, ...reading, collected_at: new Date().toISOString() };
  }

  private async read(host: Host, withVersion: boolean): Promise<GpuStatus> {
    const result = await host.transport.exec(buildGpuStatusCommand(host.config.nvidia_smi_path, { version: withVersion }), {
      timeoutMs: 20_000,
      maxStdoutBytes: 1 << 20,
      maxStderrBytes: 64 << 10,
    });
    return parseGpuStatus(host.name, result.stdout, result.stderr, result.exitCode, host.config.transport);
  }
}
