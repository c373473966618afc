import { defineOperation } from '../../common/operation.js';
import { GpuStatusInput, GpuStatusResult } from './dto/gpu.dto.js';
import { GpuService } from './gpu.service.js';

export const gpuStatus = defineOperation({
  id: 'gpu_status',
  area: 'gpu',
  method: 'GET',
  path: '/gpu/status',
  scope: 'read',
  summary: 'GPU utilization, memory, temperature, power and processes',
  description: 'GPU utilization, memory (MiB), temperature, power and processes (nvidia-smi). Use it for "how much GPU memory is in use?".',
  input: GpuStatusInput,
  output: GpuStatusResult,
  service: GpuService,
  idempotent: true,
});
