import { Injectable } from '@nestjs/common';
import { HostRegistry } from '../../infra/host-registry.js';
import type { GpuStatusInput, GpuStatusResult } from './dto/gpu.dto.js';
import { buildGpuStatusCommand, parseGpuStatus } from './nvidia-smi.js';

@Injectable()
export class GpuService {
  constructor(private readonly hosts: HostRegistry) {}

  async gpu_status(input: GpuStatusInput): Promise<GpuStatusResult> {
    const host = this.hosts.get(input.host);
    const result = await host.transport.exec(buildGpuStatusCommand(host.config.nvidia_smi_path), {
      timeoutMs: 20_000,
      maxStdoutBytes: 1 << 20,
      maxStderrBytes: 64 << 10,
    });
    const parsed = parseGpuStatus(host.name, result.stdout, result.stderr, result.exitCode);
    return { host: host.name, ...parsed, collected_at: new Date().toISOString() };
  }
}
