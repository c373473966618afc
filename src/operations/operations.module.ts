import { Global, Module } from '@nestjs/common';
import { OpenApiDocuments } from '../openapi/openapi.controller.js';
import { AuditLog } from './audit.js';
import { AuthService } from './auth.js';
import { CallRecorder } from './call-recorder.js';

/** Cross-cutting services every surface (REST, MCP) uses. */
@Global()
@Module({
  providers: [AuthService, AuditLog, CallRecorder, OpenApiDocuments],
  exports: [AuthService, AuditLog, CallRecorder, OpenApiDocuments],
})
export class CommonModule {}
