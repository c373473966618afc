import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/common/errors.js';
import { GPU_QUERY_FIELDS } from '../../src/modules/gpu/gpu-fields.js';
import { buildGpuStatusCommand, parseGpuStatus } from '../../src/modules/gpu/nvidia-smi.js';
import {
  DEFAULT_NVIDIA_SMI_SCENARIO,
  NVIDIA_SMI_ERROR_SCENARIOS,
  NVIDIA_SMI_FIXTURES_DIR,
  installFakeNvidiaSmi,
  setNvidiaSmiScenario,
  setNvidiaSmiUnknownFields,
} from '../support/fake-nvidia-smi.js';

const FIX = NVIDIA_SMI_FIXTURES_DIR;
const DERIVED = join(FIX, 'csv', 'derived-from-captures');
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

let root: string;
let bin: string;
let scenarios: string[];

beforeAll(() => {
  // A quote and a space in the path: the command must quote nvidia_smi_path properly.
  root = mkdtempSync(join(tmpdir(), 'fake-nvidia-smi-'));
  bin = join(root, "it's a bin");
  mkdirSync(bin);
  scenarios = installFakeNvidiaSmi(bin);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Run like the transport does: the command string through a shell. */
function sh(command: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', env });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
}

function smi(...args: string[]) {
  const r = spawnSync(join(bin, 'nvidia-smi'), args, { encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
}

function statusFor(scenario: string) {
  setNvidiaSmiScenario(bin, scenario);
  const r = sh(buildGpuStatusCommand(join(bin, 'nvidia-smi')));
  return parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode);
}

function failureFor(scenario: string): AppError {
  setNvidiaSmiScenario(bin, scenario);
  const r = sh(buildGpuStatusCommand(join(bin, 'nvidia-smi')));
  try {
    parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error(`scenario ${scenario} did not fail`);
}

describe('installFakeNvidiaSmi', () => {
  it('offers idle and load for every copied capture and selects the default', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(16);
    expect(scenarios).toContain('linux-x86_64__nvidia-h100-mig__590.48.01__load');
    expect(read(bin, 'nvidia-smi.scenario').trim()).toBe(DEFAULT_NVIDIA_SMI_SCENARIO);
  });

  it('refuses an unknown scenario', () => {
    expect(() => setNvidiaSmiScenario(bin, 'no-such-gpu__load')).toThrow(/unknown scenario/);
  });
});

describe('the fake behaves like nvidia-smi', () => {
  const h100 = 'linux-x86_64__nvidia-h100-mig__590.48.01__load';

  it('prints the requested fields in the requested order, header with units unless told otherwise', () => {
    setNvidiaSmiScenario(bin, h100);
    const r = smi('--query-gpu=fan.speed,gpu_uuid,utilization.gpu,power.draw,name', '--format=csv');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      'fan.speed [%], uuid, utilization.gpu [%], power.draw [W], name\n' +
        '[N/A], GPU-00000000-0000-0000-0000-000000000000, [N/A], 433.78 W, NVIDIA H100 80GB HBM3\n',
    );
  });

  it('noheader,nounits in the server order equals the projection of the derived fixture', () => {
    setNvidiaSmiScenario(bin, h100);
    const r = smi(`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits');
    expect(r.stdout).toBe(
      '0, NVIDIA H100 80GB HBM3, GPU-00000000-0000-0000-0000-000000000000, 590.48.01, 81559, 11125, 69956, [N/A], 53, 433.78, 700.00, [N/A], ' +
        '1980, 2619, 1980, 0x0000000000000000, 5, 16, 0, [N/A], [N/A], Enabled, Default, Enabled\n',
    );
  });

  it('compute apps: aliases accepted, no header with noheader, nothing at all when idle', () => {
    setNvidiaSmiScenario(bin, h100);
    const r = smi('--query-compute-apps=pid,name,used_memory', '--format=csv,noheader,nounits');
    expect(r.stdout).toBe('21180, /root/tools/memhog, 2296\n21181, /root/tools/memhog, 1272\n21198, ./gpu_burn, 7484\n');
    setNvidiaSmiScenario(bin, 'linux-x86_64__nvidia-h100-mig__590.48.01__idle');
    const idle = smi('--query-compute-apps=gpu_uuid,pid', '--format=csv,noheader,nounits');
    expect(idle).toEqual({ stdout: '', stderr: '', exitCode: 0 });
  });

  it('refuses a field the captured driver does not know, with nvidia-smi words and exit 2', () => {
    setNvidiaSmiScenario(bin, h100);
    const r = smi('--query-gpu=index,cuda_version', '--format=csv');
    expect(r.stdout).toBe(read(FIX, 'errors', 'invalid-query-field.txt'));
    expect(r.exitCode).toBe(2);
  });

  it("knows each driver's own field list: kmd_version works on 595, not on 590", () => {
    setNvidiaSmiScenario(bin, 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__idle');
    expect(smi('--query-gpu=kmd_version', '--format=csv').exitCode).toBe(2);
    setNvidiaSmiScenario(bin, 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__idle');
    const r = smi('--query-gpu=kmd_version', '--format=csv,noheader');
    expect(r).toMatchObject({ exitCode: 0, stdout: '595.71.05\n' });
  });

  it('answers every field of the capture, and nounits drops exactly the unit the header names', () => {
    const scenario = 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__load';
    setNvidiaSmiScenario(bin, scenario);
    const capture = read(
      FIX,
      'nvidia_gpu_exporter-split',
      'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01',
      'load__query-gpu-csv-what-the-exporter-parses.txt',
    ).split('\n');
    const header = capture[0].split(', ');
    const values = capture[1].split(', ');
    const names = header.map((h) => h.replace(/ \[.*\]$/, ''));
    const withUnits = smi(`--query-gpu=${names.join(',')}`, '--format=csv,noheader');
    expect(withUnits.stdout).toBe(`${capture[1]}\n`);
    const bare = smi(`--query-gpu=${names.join(',')}`, '--format=csv,noheader,nounits')
      .stdout.trimEnd()
      .split(', ');
    expect(bare).toHaveLength(header.length);
    header.forEach((h, i) => {
      const unit = /\[(.*)\]$/.exec(h)?.[1];
      expect(bare[i]).toBe(unit && values[i].endsWith(` ${unit}`) ? values[i].slice(0, -unit.length - 1) : values[i]);
    });
    expect(bare[names.indexOf('memory.total')]).toBe('81559');
    expect(bare[names.indexOf('clocks.current.graphics')]).toBe('1980');
  });

  it('emulates an older driver: unknown names leave --help-query-gpu and are refused, aliases still answer', () => {
    setNvidiaSmiScenario(bin, 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__idle');
    try {
      setNvidiaSmiUnknownFields(bin, ['fan.speed', 'clocks_event_reasons.active']);
      const help = smi('--help-query-gpu');
      expect(help.exitCode).toBe(0);
      expect(help.stdout).not.toContain('"fan.speed"');
      expect(help.stdout).toContain('"clocks_throttle_reasons.active"');
      expect(help.stdout).not.toContain('"clocks_event_reasons.active"');
      const refused = smi('--query-gpu=index,fan.speed', '--format=csv,noheader');
      expect(refused).toMatchObject({ exitCode: 2, stdout: 'Field "fan.speed" is not a valid field to query.\n' });
      expect(smi('--query-gpu=clocks_throttle_reasons.active', '--format=csv,noheader').stdout).toBe('0x0000000000000004\n');
    } finally {
      setNvidiaSmiUnknownFields(bin, []);
    }
    expect(smi('--help-query-gpu').stdout).toBe(
      read(FIX, 'nvidia_gpu_exporter-split', 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'capabilities__help-query-gpu.txt'),
    );
  });

  it('--version prints the capture', () => {
    setNvidiaSmiScenario(bin, 'linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04__load');
    const r = smi('--version');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      read(FIX, 'nvidia_gpu_exporter-split', 'linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04', 'capabilities__version.txt'),
    );
  });

  it('unsupported arguments fail loudly', () => {
    const r = smi('-q');
    expect(r.exitCode).toBe(70);
    expect(r.stderr).toContain('unsupported argument');
  });
});

describe('buildGpuStatusCommand run against the fake, parsed with parseGpuStatus', () => {
  it('every capture scenario parses, and matches the derived fixture', () => {
    for (const scenario of scenarios) {
      const s = statusFor(scenario);
      expect(s.gpus, scenario).toHaveLength(1);
      expect(s.cuda_version, scenario).toMatch(/^\d+\.\d+$/);
      const apps = read(DERIVED, `${scenario}__apps__csv_noheader_nounits.txt`);
      expect(s.processes.length, scenario).toBe(apps.split('\n').filter((l) => l !== '').length);
    }
  });

  it('H100 MIG under load: utilization null, 3 processes on GPU 0', () => {
    const s = statusFor('linux-x86_64__nvidia-h100-mig__590.48.01__load');
    expect(s.driver_version).toBe('590.48.01');
    expect(s.cuda_version).toBe('13.1');
    expect(s.gpus[0].utilization_percent).toBeNull();
    expect(s.gpus[0].power_draw_watts).toBe(433.78);
    expect(s.processes.map((p) => p.gpu_index)).toEqual([0, 0, 0]);
  });

  it('RTX 2080 SUPER on 610: KMD and CUDA UMD versions, fan 38 %', () => {
    const s = statusFor('linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04__load');
    expect(s.driver_version).toBe('610.57.04');
    expect(s.cuda_version).toBe('13.3');
    expect(s.gpus[0].fan_speed_percent).toBe(38);
  });

  it('Windows 2080: process memory null', () => {
    const s = statusFor('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86__load');
    expect(s.processes.every((p) => p.used_memory_mb === null)).toBe(true);
  });

  it('found through PATH with the default nvidia_smi_path', () => {
    setNvidiaSmiScenario(bin, DEFAULT_NVIDIA_SMI_SCENARIO);
    const r = sh(buildGpuStatusCommand(), { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    const s = parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode);
    expect(s.gpus[0].name).toBe('NVIDIA GeForce RTX 2080 SUPER');
    expect(s.processes.map((p) => p.pid)).toEqual([5268, 5267]);
  });
});

describe('failures through the real shell', () => {
  it.each([
    ['driver-not-loaded', "couldn't communicate with the NVIDIA driver", 'installed and loaded', 9],
    ['no-devices-found', 'No devices were found', 'lspci', 6],
    ['nvml-driver-library-mismatch', 'Driver/library version mismatch', 'reboot the host', 18],
    ['nvml-unknown-error', 'Failed to initialize NVML: Unknown Error', 'NVIDIA Container Toolkit', 255],
    ['command-not-found', 'sh: 1: nvidia-smi: not found', 'nvidia_smi_path', 127],
  ] as const)('%s', (scenario, quoted, advice, code) => {
    expect(NVIDIA_SMI_ERROR_SCENARIOS).toContain(scenario);
    const err = failureFor(scenario);
    expect(err.status).toBe(503);
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toMatch(/^nvidia-smi on host 'whisper' failed: "/);
    expect(err.message).toContain(quoted);
    expect(err.message).toContain(advice);
    expect(err.message).toContain(`(exit code ${code})`);
  });

  it('a nvidia_smi_path that does not exist: the shell says so', () => {
    const r = sh(buildGpuStatusCommand(join(root, 'missing', 'nvidia-smi')));
    expect(r.exitCode).toBe(0); // the script itself finishes; the section carries 127
    let err: unknown;
    try {
      parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toContain('missing/nvidia-smi');
    expect((err as AppError).message).toContain('install the NVIDIA driver');
    expect((err as AppError).message).toContain('(exit code 127)');
  });
});
