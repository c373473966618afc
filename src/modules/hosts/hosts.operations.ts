import { defineOperation } from '../../operations/operation.js';
import { HostResourcesInput, HostResourcesResult, ListHostsInput, ListHostsResult } from './dto/hosts.dto.js';
import { HostsService } from './hosts.service.js';

export const listHosts = defineOperation({
  id: 'list_hosts',
  area: 'hosts',
  method: 'GET',
  path: '/hosts',
  scope: 'read',
  summary: 'List the managed hosts',
  description: 'Hosts this server manages: name, transport, address, default, reachable.',
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
  description: 'Uptime, load, CPU, memory and disks of a host ("check disk space", "how much RAM is free?").',
  input: HostResourcesInput,
  output: HostResourcesResult,
  service: HostsService,
  idempotent: true,
});
