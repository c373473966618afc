import { Controller, Query } from '@nestjs/common';
import { Operation } from '../../operations/operation.js';
import { GpuHistoryInput, GpuStatusInput } from './dto/gpu.dto.js';
import { gpuHistory, gpuStatus } from './gpu.operations.js';
import { GpuService } from './gpu.service.js';

@Controller()
export class GpuController {
  constructor(private readonly gpu: GpuService) {}

  @Operation(gpuStatus)
  gpu_status(@Query() input: GpuStatusInput) {
    return this.gpu.gpu_status(input);
  }

  @Operation(gpuHistory)
  gpu_history(@Query() input: GpuHistoryInput) {
    return this.gpu.gpu_history(input);
  }
}
