import { Controller, Query } from '@nestjs/common';
import { Operation } from '../../operations/operation.js';
import { HostResourcesInput, ListHostsInput } from './dto/hosts.dto.js';
import { hostResources, listHosts } from './hosts.operations.js';
import { HostsService } from './hosts.service.js';

@Controller()
export class HostsController {
  constructor(private readonly hosts: HostsService) {}

  @Operation(listHosts)
  list_hosts(@Query() input: ListHostsInput) {
    return this.hosts.list_hosts(input);
  }

  @Operation(hostResources)
  host_resources(@Query() input: HostResourcesInput) {
    return this.hosts.host_resources(input);
  }
}
