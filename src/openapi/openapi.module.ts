import { Module } from '@nestjs/common';
import { OpenApiController, OpenApiDocuments } from './openapi.controller.js';

/** The served spec documents: the REST routes read them, and so does the MCP tool runner. */
@Module({ controllers: [OpenApiController], providers: [OpenApiDocuments], exports: [OpenApiDocuments] })
export class OpenApiModule {}
