import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AuthGuard } from './common/auth.js';
import { CommonModule } from './common/common.module.js';
import { OperationInterceptor } from './common/operation.interceptor.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.types.js';
import { HealthController } from './health/health.controller.js';
import { InfraModule } from './infra/infra.module.js';
import { McpModule } from './mcp/mcp.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { FilesModule } from './modules/files/files.module.js';
import { GpuModule } from './modules/gpu/gpu.module.js';
import { HostsModule } from './modules/hosts/hosts.module.js';
import { OllamaModule } from './modules/ollama/ollama.module.js';
import { PanelModule } from './modules/panel/panel.module.js';
import { ShellModule } from './modules/shell/shell.module.js';
import { OpenApiController } from './openapi/openapi.controller.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        InfraModule,
        MetricsModule,
        HostsModule,
        GpuModule,
        OllamaModule,
        ShellModule,
        FilesModule,
        PanelModule,
        McpModule,
      ],
      controllers: [HealthController, OpenApiController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: OperationInterceptor },
      ],
    };
  }
}
