import { Module } from '@nestjs/common';
import { GpuController } from './gpu.controller.js';
import { GpuService } from './gpu.service.js';

@Module({ controllers: [GpuController], providers: [GpuService], exports: [GpuService] })
export class GpuModule {}
