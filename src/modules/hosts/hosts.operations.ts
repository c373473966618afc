import { defineOperation } from '../../common/operation.js';
import { HostResourcesInput, HostResourcesResult, ListHostsInput, ListHostsResult } from './dto/hosts.dto.js';
import { HostsService } from './hosts.service.js';

export const listHosts = defineOperation({
  id: 'list_hosts',
  area: 'hosts',
  method: 'GET',
  path: '/hosts',
  scope: 'read',
  summary: 'List the managed hosts',
  description:
    'Lists the GPU hosts this server manages: name, transport (ssh or local), address, whether it is the default, which tool areas are enabled, and whether it answers right now. Use it to find the host names other tools accept in `host`.',
  input: ListHostsInput,
  output: ListHostsResult,
  service: HostsService,
  idempotent: true,
});

export const hostResources = defineOperation({
  id: 'host_resources',
  area: 'hosts',
  method: 'GET',
  path: '/hosts/resources',
  scope: 'read',
  summary: 'CPU, memory, disk and uptime of a host',
  description:
    'Reports a host\'s hostname, uptime, load averages, CPU count, memory (total/used/available MiB) and disks (size/used/available GB and use percent per mount). Use it for questions like "check disk space" or "how much RAM is free".',
  input: HostResourcesInput,
  output: HostResourcesResult,
  service: HostsService,
  idempotent: true,
});
