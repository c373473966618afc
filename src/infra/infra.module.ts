import { Global, Module } from '@nestjs/common';
import { HostRegistry } from './host-registry.js';

/** Everything that does I/O towards hosts lives behind these providers. */
@Global()
@Module({ providers: [HostRegistry], exports: [HostRegistry] })
export class InfraModule {}
