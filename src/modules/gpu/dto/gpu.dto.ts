import { ApiProperty } from '@nestjs/swagger';
import { HostInput } from '../../../common/host-input.dto.js';
import { OptionalInt } from '../../../common/optional-int.js';

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
  /** Graphics clock, MHz. */
  clocks_graphics_mhz: number | null;
  /** Memory clock, MHz. */
  clocks_memory_mhz: number | null;
  /** Maximum graphics clock, MHz. */
  clocks_max_graphics_mhz: number | null;
  /** Why clocks are held down now (e.g. gpu_idle, sw_power_cap, hw_thermal_slowdown); empty when nothing is. */
  throttle_reasons: string[] | null;
  /** Current PCIe generation. */
  pcie_generation: number | null;
  /** Current PCIe link width (lanes). */
  pcie_width: number | null;
  /** Uncorrected ECC errors since the driver loaded; null without ECC. */
  ecc_errors_uncorrected: number | null;
  /** Video encoder utilization, percent. */
  encoder_percent: number | null;
  /** Video decoder utilization, percent. */
  decoder_percent: number | null;
  /** Persistence mode on. */
  persistence_mode: boolean | null;
  /** Compute mode: Default, Exclusive_Process or Prohibited. */
  compute_mode: string | null;
  /** MIG mode on. */
  mig_mode: boolean | null;
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
  /** When this answer was made (ISO 8601). */
  collected_at: string;
  /** When the reading was taken (ISO 8601): the sampler's latest, or now. */
  sampled_at: string;
  /** When GPUs or processes were left out to keep the answer small: which, and how to see them. */
  note?: string;
}

export class GpuHistoryInput extends HostInput {
  /** Default 10, at most 1440. */
  @OptionalInt(1, 1440)
  window_minutes?: number;

  /** Only this GPU. */
  @OptionalInt(0, 255)
  gpu_index?: number;

  /** Also a series of this many means per GPU. */
  @OptionalInt(2, 60)
  points?: number;
}

/** The plugin cannot spell an array of nullable numbers. */
const NULLABLE_NUMBERS = { type: 'array', items: { type: 'number', nullable: true } } as const;

export class GpuHistorySeries {
  /** Mean utilization per span, oldest first; null: no reading. */
  @ApiProperty(NULLABLE_NUMBERS)
  utilization_percent: Array<number | null>;
  /** Mean memory used per span, MiB. */
  @ApiProperty(NULLABLE_NUMBERS)
  memory_used_mb: Array<number | null>;
}

export class GpuHistoryStat {
  /** Lowest. */
  min: number | null;
  /** Mean. */
  avg: number | null;
  /** Highest. */
  max: number | null;
}

export class GpuHistoryProcess {
  /** Process id. */
  pid: number | null;
  /** Process name. */
  process_name: string | null;
  /** Most GPU memory it used in the window, MiB. */
  used_memory_mb: number | null;
}

export class GpuHistoryGpu {
  /** GPU index. */
  index: number;
  /** GPU UUID. */
  uuid: string;
  /** Product name. */
  name: string;
  /** Readings in the window. */
  samples: number;
  /** Utilization, percent. */
  utilization_percent: GpuHistoryStat;
  /** Memory used, MiB. */
  memory_used_mb: GpuHistoryStat;
  /** Temperature, Celsius. */
  temperature_celsius: GpuHistoryStat;
  /** Power draw, watts. */
  power_draw_watts: GpuHistoryStat;
  /** Seconds at 90 % utilization or more. */
  seconds_above_90_percent: number;
  /** Processes that used the most memory (at most 5). */
  top_processes: GpuHistoryProcess[];
  /** With points: the window in that many equal spans. */
  series?: GpuHistorySeries;
}

export class GpuHistoryResult {
  /** Configured host name. */
  host: string;
  /** Window start (ISO 8601). */
  from: string;
  /** Window end (ISO 8601). */
  to: string;
  /** Seconds per reading the figures come from (1-s samples within the last hour, 60-s aggregates before). */
  resolution_seconds: number;
  /** One entry per GPU seen in the window. */
  gpus: GpuHistoryGpu[];
  /** With points: seconds per span of each series. */
  series_step_seconds?: number;
  /** When GPUs or top processes were left out to keep the answer small: which, and how to see them. */
  note?: string;
}
