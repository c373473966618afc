import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.types.js';
import { InfraModule } from './infra/infra.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { AuthGuard } from './operations/auth.js';
import { OperationInterceptor } from './operations/operation.interceptor.js';
import { OperationsModule } from './operations/operations.module.js';
// Feature modules before the MCP and OpenAPI modules: the build's swagger plugin lists a union's
// literals (e.g. a job's states) in the order the compiler first meets them, and the MCP SDK's types
// hold some of the same words, so this order keeps openapi.json's enums as they are.
import { FilesModule } from './modules/files/files.module.js';
import { GpuModule } from './modules/gpu/gpu.module.js';
import { HostsModule } from './modules/hosts/hosts.module.js';
import { OllamaModule } from './modules/ollama/ollama.module.js';
import { PanelModule } from './modules/panel/panel.module.js';
import { ShellModule } from './modules/shell/shell.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { McpModule } from './mcp/mcp.module.js';
import { HealthController } from './health/health.controller.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        OperationsModule,
        InfraModule,
        MetricsModule,
        HostsModule,
        GpuModule,
        OllamaModule,
        ShellModule,
        FilesModule,
        PanelModule,
        OpenApiModule,
        McpModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: OperationInterceptor },
      ],
    };
  }
}
