import { Global, Module } from '@nestjs/common';
import { OpenApiDocuments } from '../openapi/openapi.controller.js';
import { AuditLog } from './audit.js';
import { AuthService } from './auth.js';

/** Cross-cutting services every surface (REST, MCP) uses. */
@Global()
@Module({ providers: [AuthService, AuditLog, OpenApiDocuments], exports: [AuthService, AuditLog, OpenApiDocuments] })
export class CommonModule {}
