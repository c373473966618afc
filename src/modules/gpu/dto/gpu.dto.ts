import { HostInput } from '../../../common/host-input.dto.js';

export class GpuStatusInput extends HostInput {}

export class GpuInfo {
  /** GPU index as nvidia-smi numbers it. */
  index: number;
  /** GPU UUID. */
  uuid: string;
  /** Product name, e.g. "NVIDIA GeForce GTX 1080 Ti". */
  name: string;
  /** GPU utilization in percent; null when the GPU does not report it (MIG, old consumer drivers). */
  utilization_percent: number | null;
  /** Memory in use, MiB. */
  memory_used_mb: number | null;
  /** Total memory, MiB. */
  memory_total_mb: number | null;
  /** Free memory, MiB. */
  memory_free_mb: number | null;
  /** Core temperature in degrees Celsius. */
  temperature_celsius: number | null;
  /** Current power draw in watts. */
  power_draw_watts: number | null;
  /** Power limit in watts. */
  power_limit_watts: number | null;
  /** Fan speed in percent; null for passively cooled datacenter cards. */
  fan_speed_percent: number | null;
}

export class GpuProcess {
  /** Index of the GPU the process runs on; null when its UUID matches no GPU listed. */
  gpu_index: number | null;
  /** UUID of the GPU the process runs on. */
  gpu_uuid: string;
  /** Process id on the host; null when the driver will not say. */
  pid: number | null;
  /** Process name or path; null when the driver will not say (e.g. another container's process). */
  process_name: string | null;
  /** GPU memory used by the process, MiB; null where the driver does not report it (Windows WDDM). */
  used_memory_mb: number | null;
}

export class GpuStatusResult {
  /** Configured host name. */
  host: string;
  /** NVIDIA driver version. */
  driver_version: string | null;
  /** CUDA version the driver supports; null when the driver does not report it. */
  cuda_version: string | null;
  /** One entry per GPU. */
  gpus: GpuInfo[];
  /** Compute processes using a GPU. */
  processes: GpuProcess[];
  /** When the reading was taken (ISO 8601). */
  collected_at: string;
}
