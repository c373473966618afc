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
  description:
    'Reads nvidia-smi on the host: driver and CUDA version, and per GPU the utilization %, memory used/total/free (MiB), temperature (C), power draw and limit (W) and fan %, plus the processes using each GPU and their memory. Use it for "how much GPU memory is in use?" or "is the GPU busy?". Values a GPU does not report are null.',
  input: GpuStatusInput,
  output: GpuStatusResult,
  service: GpuService,
  idempotent: true,
});
