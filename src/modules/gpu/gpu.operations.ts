import { defineOperation } from '../../operations/operation.js';
import { GpuHistoryInput, GpuHistoryResult, GpuStatusInput, GpuStatusResult } from './dto/gpu.dto.js';
import { GpuService } from './gpu.service.js';

export const gpuStatus = defineOperation({
  id: 'gpu_status',
  area: 'gpu',
  method: 'GET',
  path: '/gpu/status',
  scope: 'read',
  summary: 'GPU utilization, memory, temperature, power and processes',
  description:
    'GPU utilization, memory (MiB), temperature, power, clocks, throttling and processes (nvidia-smi): "how much GPU memory is in use?".',
  input: GpuStatusInput,
  output: GpuStatusResult,
  service: GpuService,
  idempotent: true,
});

export const gpuHistory = defineOperation({
  id: 'gpu_history',
  area: 'gpu',
  method: 'GET',
  path: '/gpu/history',
  scope: 'read',
  summary: 'GPU load over a recent window',
  description:
    'GPU utilization, memory, temperature and power over the last minutes (min/avg/max) and top processes: "how busy was the GPU?".',
  input: GpuHistoryInput,
  output: GpuHistoryResult,
  service: GpuService,
  idempotent: true,
});
