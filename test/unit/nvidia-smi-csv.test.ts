/** nvidia-smi-csv.ts: no-value tokens, rows by field name, older drivers' answers, --version, throttle reasons. */
import { describe, expect, it } from 'vitest';
import {
  isNoValue,
  parseGpuRows,
  parseNvidiaSmiCsv,
  parseProcessRows,
  parseVersionOutput,
  throttleReasonWords,
} from '../../src/modules/gpu/nvidia-smi-csv.js';
import { CAPTURES, FIX, SPLIT, readFixture } from '../support/nvidia-smi-output.js';

describe('no-value tokens', () => {
  it('every bracketed token in the captured answers of every driver is no value', () => {
    const tokens = new Set<string>();
    for (const capture of CAPTURES) {
      for (const state of ['idle', 'load']) {
        const text = readFixture(SPLIT, capture, `${state}__query-gpu-csv-what-the-exporter-parses.txt`);
        for (const cell of text.split(/, |\n/)) if (/^\[.*\]$/.test(cell)) tokens.add(cell);
      }
    }
    expect(tokens.size).toBeGreaterThanOrEqual(2);
    expect([...tokens].filter((t) => !isNoValue(t))).toEqual([]);
  });

  it("older drivers' bare N/A, the table's ERR!, empty and padded cells, and brackets a future driver may print", () => {
    expect(['N/A', 'ERR!', '', '  ', ' [N/A] ', '[A Message No Driver Printed Yet]'].filter((t) => !isNoValue(t))).toEqual([]);
  });

  it('values stay values, also ones that only contain brackets or N/A', () => {
    expect(['0', '38', '433.78', 'NVIDIA H100 80GB HBM3', 'N/A and more', '[x] y', 'GPU-[1]', '[a]b]'].filter(isNoValue)).toEqual([]);
  });
});

describe('older drivers and other field lists', () => {
  const titanGpus = readFixture(FIX, 'csv', 'gtx-titan-x-x3_gpustat-2016_noheader_nounits.txt');
  const titanApps = readFixture(FIX, 'csv', 'gtx-titan-x-x3_gpustat-2016_compute-apps_noheader_nounits.txt');
  // Field lists from the commands in PROVENANCE.md.
  const titanGpuFields = ['index', 'uuid', 'name', 'temperature.gpu', 'utilization.gpu', 'memory.used', 'memory.total'];
  const titanAppFields = ['gpu_uuid', 'pid', 'used_memory'];

  it('3x GTX TITAN X (gpustat 2016): [Not Supported] utilization -> null; three GPUs', () => {
    const gpus = parseGpuRows(titanGpus, titanGpuFields);
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2]);
    expect(gpus.map((g) => g.utilization_percent)).toEqual([76, 0, null]);
    expect(gpus[0]).toMatchObject({
      uuid: 'GPU-10fb0fbd-2696-43f3-467f-d280d906a107',
      name: 'GeForce GTX TITAN X',
      temperature_celsius: 80,
      memory_used_mb: 8000,
      memory_total_mb: 12287,
      fan_speed_percent: null, // not queried
      power_draw_watts: null,
    });
  });

  it('3x GTX TITAN X processes: gpu_index looked up by UUID, [Not Supported] pid and memory -> null', () => {
    const gpus = parseGpuRows(titanGpus, titanGpuFields);
    const procs = parseProcessRows(titanApps, gpus, titanAppFields);
    expect(procs.map((p) => [p.gpu_index, p.pid, p.used_memory_mb])).toEqual([
      [0, 48448, 4000],
      [0, 153223, 4000],
      [1, 192453, 3000],
      [1, 194826, 6000],
      [2, 38310, 4245],
      [2, null, null],
    ]);
    expect(procs[0].process_name).toBeNull(); // not queried by that command
  });

  it('RTX 2080 on 440.64: bare N/A -> null, names with spaces stay whole', () => {
    const fields =
      'power.limit,power.min_limit,power.max_limit,memory.total,vbios_version,driver_version,name,gpu_uuid,power.draw,temperature.gpu,temperature.memory,clocks.current.graphics,clocks.sm,clocks.mem,utilization.gpu,utilization.memory,fan.speed,pcie.link.width.current,pstate'.split(
        ',',
      );
    const [row] = parseNvidiaSmiCsv(readFixture(FIX, 'csv', 'rtx2080_440.64_noheader_nounits.txt'), fields);
    expect(row['temperature.memory']).toBeNull();
    expect(row.name).toBe('GeForce RTX 2080');
    expect(row.driver_version).toBe('440.64');
    expect(row['fan.speed']).toBe('100');
    expect(row['power.draw']).toBe('176.98');
    expect(row['utilization.gpu']).toBe('86');
  });

  it('rejoins commas in a process name (synthetic row: no capture has one)', () => {
    const gpus = parseGpuRows(titanGpus, titanGpuFields);
    const procs = parseProcessRows('GPU-d1df4664-bb44-189c-7ad0-ab86c8cb30e2, 42, /opt/a, b/run, 512\n', gpus);
    expect(procs).toEqual([
      { gpu_index: 1, gpu_uuid: 'GPU-d1df4664-bb44-189c-7ad0-ab86c8cb30e2', pid: 42, process_name: '/opt/a, b/run', used_memory_mb: 512 },
    ]);
  });
});

describe('parseVersionOutput', () => {
  it.each(CAPTURES)('%s', (capture) => {
    const v = parseVersionOutput(readFixture(SPLIT, capture, 'capabilities__version.txt'));
    const [, driver] = capture.split('__').slice(-2);
    expect(v.driver_version).toBe(driver);
    expect(v.cuda_version).toMatch(/^13\.[123]$/);
  });
});

describe('throttleReasonWords', () => {
  it('decodes each NVML bit to its nvidia-smi name', () => {
    expect(throttleReasonWords('0x0000000000000000')).toEqual([]);
    expect(throttleReasonWords('0x0000000000000001')).toEqual(['gpu_idle']);
    expect(throttleReasonWords('0x0000000000000044')).toEqual(['sw_power_cap', 'hw_thermal_slowdown']);
    expect(throttleReasonWords('0x00000000000001FF')).toHaveLength(9);
  });

  it('keeps bits it has no name for visible instead of dropping them', () => {
    expect(throttleReasonWords('0x0000000000000401')).toEqual(['gpu_idle', 'other_0x400']);
    expect(throttleReasonWords('0xFFFFFFFFFFFFFFFF')).toContain('other_0xfffffffffffffe00');
  });

  it('is null for no value or anything that is not a hex mask', () => {
    for (const v of [null, undefined, '', '[N/A]', '12', '0x', '0xZZ', '0x00000000000000001', '-0x1', ' 0x1']) {
      expect(throttleReasonWords(v)).toBeNull();
    }
  });
});
