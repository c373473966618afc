import { Module } from '@nestjs/common';
import { GpuMetrics } from './gpu-metrics.js';
import { GpuController } from './gpu.controller.js';
import { GpuService } from './gpu.service.js';

@Module({ controllers: [GpuController], providers: [GpuService, GpuMetrics], exports: [GpuService] })
export class GpuModule {}
