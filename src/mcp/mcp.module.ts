import { Module } from '@nestjs/common';
import { OpenApiModule } from '../openapi/openapi.module.js';
import { McpController } from './mcp.controller.js';
import { ToolRunner } from './tool-runner.js';

@Module({ imports: [OpenApiModule], controllers: [McpController], providers: [ToolRunner], exports: [ToolRunner] })
export class McpModule {}
