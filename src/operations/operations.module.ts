import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit.js';
import { AuthService } from './auth.js';
import { CallRecorder } from './call-recorder.js';

/** Cross-cutting services every surface (REST, MCP) uses. */
@Global()
@Module({
  providers: [AuthService, AuditLog, CallRecorder],
  exports: [AuthService, AuditLog, CallRecorder],
})
export class OperationsModule {}
