import { Module } from '@nestjs/common';
import { McpController } from './mcp.controller.js';
import { ToolRunner } from './tool-runner.js';

@Module({ controllers: [McpController], providers: [ToolRunner], exports: [ToolRunner] })
export class McpModule {}
