/**
 * What gpu_status knows about a host's NVIDIA driver, and the one-shot reading that learns it: which
 * `--query-gpu` fields it takes (its `--help-query-gpu`, then any field it refuses) and its driver and
 * CUDA versions, learned once per host and again when the driver changes.
 */
import type { Host } from '../../infra/host-registry.js';
import { chooseGpuFields, parseHelpQueryFields } from './gpu-fields.js';
import { QueryFieldRefused } from './nvidia-smi-failures.js';
import { buildGpuStatusCommand, buildHelpQueryGpuCommand, parseGpuStatus, type GpuStatus } from './nvidia-smi.js';

/** What is known about one host's driver: learned once, and again when the driver changes. */
export interface DriverProfile {
  /** The GPU query's driver_version column when this was learned. */
  query_driver_version: string | null;
  driver_version: string | null;
  cuda_version: string | null;
  /** Names from `--help-query-gpu`; null when it told nothing (then refusals teach). */
  accepted: Set<string> | null;
  refused: Set<string>;
  gpuFields: string[];
}

/** Called when the driver refused a field, which is then left out of `profile.gpuFields`. */
export type OnFieldRefused = (field: string) => void;

/** Learns a host's driver profile and returns it with the reading taken on the way (with versions). */
export async function learnDriverProfile(host: Host, onRefused: OnFieldRefused): Promise<{ profile: DriverProfile; status: GpuStatus }> {
  const help = await host.transport.exec(buildHelpQueryGpuCommand(host.config.nvidia_smi_path), {
    timeoutMs: 20_000,
    maxStdoutBytes: 256 << 10,
    maxStderrBytes: 16 << 10,
  });
  // A driver without --help-query-gpu (or nvidia-smi failing) teaches nothing here; the query then
  // says what is wrong, or which field it refuses.
  const accepted = help.exitCode === 0 && !help.stdoutTruncated ? parseHelpQueryFields(help.stdout) : null;
  const profile: DriverProfile = {
    query_driver_version: null,
    driver_version: null,
    cuda_version: null,
    accepted,
    refused: new Set(),
    gpuFields: chooseGpuFields(accepted, new Set()),
  };
  const status = await queryGpuStatus(host, profile, true, onRefused);
  profile.query_driver_version = status.query_driver_version;
  profile.driver_version = status.driver_version;
  profile.cuda_version = status.cuda_version;
  return { profile, status };
}

/** One exec of the status script; a field the driver refuses is dropped from the profile and the query asked again. */
export async function queryGpuStatus(
  host: Host,
  profile: DriverProfile,
  withVersion: boolean,
  onRefused: OnFieldRefused,
): Promise<GpuStatus> {
  for (;;) {
    const fields = profile.gpuFields;
    const result = await host.transport.exec(
      buildGpuStatusCommand(host.config.nvidia_smi_path, { version: withVersion, gpuFields: fields }),
      {
        timeoutMs: 20_000,
        maxStdoutBytes: 1 << 20,
        maxStderrBytes: 64 << 10,
      },
    );
    try {
      return parseGpuStatus(host.name, result.stdout, result.stderr, result.exitCode, fields, host.config.transport);
    } catch (err) {
      // Each refusal removes one name, so this ends; a refused index, name or uuid stays and fails.
      if (!(err instanceof QueryFieldRefused) || !fields.includes(err.field) || profile.refused.has(err.field)) throw err;
      profile.refused.add(err.field);
      profile.gpuFields = chooseGpuFields(profile.accepted, profile.refused);
      onRefused(err.field);
    }
  }
}
