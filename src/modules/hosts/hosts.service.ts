import { Injectable } from '@nestjs/common';
import { firstLine } from '../../common/async.js';
import { AppError } from '../../common/errors.js';
import { AREAS } from '../../operations/operation.js';
import { HostRegistry, type Host } from '../../infra/host-registry.js';
import type { HostResourcesInput, HostResourcesResult, HostInfo, ListHostsInput, ListHostsResult } from './dto/hosts.dto.js';
import { HOST_RESOURCES_COMMAND, parseHostResources } from './host-resources.js';

@Injectable()
export class HostsService {
  constructor(private readonly hosts: HostRegistry) {}

  async list_hosts(input: ListHostsInput): Promise<ListHostsResult> {
    const selected = input.host ? [this.hosts.get(input.host)] : this.hosts.all();
    return { hosts: await Promise.all(selected.map((h) => this.describe(h))) };
  }

  async host_resources(input: HostResourcesInput): Promise<HostResourcesResult> {
    const host = this.hosts.get(input.host);
    const result = await host.transport.exec(HOST_RESOURCES_COMMAND, {
      timeoutMs: 15_000,
      maxStdoutBytes: 1 << 20,
      maxStderrBytes: 64 << 10,
    });
    if (result.exitCode !== 0 && !result.stdout.trim()) {
      throw new AppError(
        503,
        'HOST_ERROR',
        `Reading resources on host '${host.name}' failed (exit ${result.exitCode ?? result.signal}): ${firstLine(result.stderr)}; the host needs a Linux /proc and df.`,
      );
    }
    return { host: host.name, ...parseHostResources(host.name, result.stdout) };
  }

  private async describe(host: Host): Promise<HostInfo> {
    return {
      name: host.name,
      transport: host.config.transport,
      address: host.transport.address,
      default: host.name === this.hosts.defaultName,
      areas: AREAS.filter((a) => a !== 'shell' || host.config.shell.enabled),
      ollama_url: host.config.ollama_url,
      ...(await this.hosts.check(host)),
    };
  }
}
