import { Module } from '@nestjs/common';
import { GpuModule } from '../gpu/gpu.module.js';
import { JobMetrics } from './job-metrics.js';
import { JobStore } from './jobs.js';
import { OllamaController } from './ollama.controller.js';
import { OllamaService } from './ollama.service.js';

@Module({
  imports: [GpuModule],
  controllers: [OllamaController],
  // One store for the process: jobs are found by id from any request, REST or MCP.
  providers: [OllamaService, JobMetrics, { provide: JobStore, useFactory: () => new JobStore() }],
  exports: [OllamaService],
})
export class OllamaModule {}
