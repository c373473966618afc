/**
 * nvidia-smi output for the parser tests, built from the captured fixtures: a capture's `--query-gpu`
 * answer for any field list, and the framed script output (sections with exit codes) that
 * buildGpuStatusCommand() would give. The fake-nvidia-smi tests run the real script for the same.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { frameBeginLine, frameEndLine } from '../../src/infra/framed-sections.js';
import { GPU_QUERY_FIELDS } from '../../src/modules/gpu/gpu-fields.js';
import { parseGpuStatus } from '../../src/modules/gpu/nvidia-smi.js';
import { NVIDIA_SMI_FIXTURES_DIR } from './fake-nvidia-smi.js';

export const FIX = NVIDIA_SMI_FIXTURES_DIR;
export const DERIVED = join(FIX, 'csv', 'derived-from-captures');
export const SPLIT = join(FIX, 'nvidia_gpu_exporter-split');
export const readFixture = (...p: string[]): string => readFileSync(join(...p), 'utf8');

/** The capture directories (one per GPU and driver). */
export const CAPTURES = readdirSync(SPLIT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** Each capture in both states it was captured in. */
export const CAPTURE_STATES = CAPTURES.flatMap((c) => [[c, 'idle'] as const, [c, 'load'] as const]);

/**
 * The `--query-gpu` answer (noheader, nounits) a capture's driver gives for `fields`: columns picked by
 * name or alias from the capture's query of every field, with the unit its header names removed, as
 * nvidia-smi's nounits does.
 */
export function captureGpuRows(capture: string, state: 'idle' | 'load', fields: readonly string[]): string {
  const [header, ...rows] = readFixture(SPLIT, capture, `${state}__query-gpu-csv-what-the-exporter-parses.txt`).trimEnd().split('\n');
  const columns = header.split(', ').map((h) => ({ name: h.replace(/ \[.*\]$/, ''), unit: /\[(.*)\]$/.exec(h)?.[1] }));
  const aliases = new Map<string, string>();
  for (const line of readFixture(SPLIT, capture, 'capabilities__help-query-gpu.txt').split('\n')) {
    const names = [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    if (line.startsWith('"')) for (const n of names) aliases.set(n, names[0]);
  }
  return rows
    .map((row) => {
      const cells = row.split(', ');
      return fields
        .map((f) => {
          const i = columns.findIndex((c) => c.name === (aliases.get(f) ?? f));
          if (i < 0) throw new Error(`capture has no column ${f}`);
          const unit = columns[i].unit;
          return unit && cells[i].endsWith(` ${unit}`) ? cells[i].slice(0, -unit.length - 1) : cells[i];
        })
        .join(', ');
    })
    .map((l) => `${l}\n`)
    .join('');
}

export interface GpuSectionOutput {
  name: 'gpu' | 'apps' | 'version';
  stdout: string;
  stderr?: string;
  exit: number;
}

/** What the script from buildGpuStatusCommand() writes for these sections. */
export function framedGpuOutput(sections: GpuSectionOutput[]): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  for (const s of sections) {
    stdout += `${frameBeginLine(s.name)}\n${s.stdout}\n${frameEndLine(s.name, s.exit)}\n`;
    stderr += `${frameBeginLine(s.name)}\n${s.stderr ?? ''}`;
  }
  return { stdout, stderr };
}

/** gpu_status output for one capture and state, built from the copied fixture files. */
export function captureOutput(capture: string, state: 'idle' | 'load'): { stdout: string; stderr: string } {
  return framedGpuOutput([
    { name: 'gpu', stdout: captureGpuRows(capture, state, GPU_QUERY_FIELDS), exit: 0 },
    // The apps fixtures' order (gpu_uuid,pid,process_name,used_gpu_memory) is ours with the used_memory alias.
    { name: 'apps', stdout: readFixture(DERIVED, `${capture}__${state}__apps__csv_noheader_nounits.txt`), exit: 0 },
    { name: 'version', stdout: readFixture(SPLIT, capture, 'capabilities__version.txt'), exit: 0 },
  ]);
}

/** parseGpuStatus of captureOutput(). */
export function captureStatus(capture: string, state: 'idle' | 'load') {
  const { stdout, stderr } = captureOutput(capture, state);
  return parseGpuStatus('whisper', stdout, stderr, 0);
}
