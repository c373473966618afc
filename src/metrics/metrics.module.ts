import { Global, Module } from '@nestjs/common';
import { GpuModule } from '../modules/gpu/gpu.module.js';
import { OllamaModule } from '../modules/ollama/ollama.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({ imports: [GpuModule, OllamaModule], controllers: [MetricsController], providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
