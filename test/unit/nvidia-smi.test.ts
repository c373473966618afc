/**
 * The gpu_status command (nvidia-smi.ts): the script's words, and parseGpuStatus on the framed output of
 * every captured driver, with sections failing, missing, cut off or holding marker text.
 */
import { describe, expect, it } from 'vitest';
import { frameBeginLine, frameEndLine } from '../../src/infra/framed-sections.js';
import { GPU_QUERY_FIELDS } from '../../src/modules/gpu/gpu-fields.js';
import { buildGpuStatusCommand, parseGpuStatus } from '../../src/modules/gpu/nvidia-smi.js';
import { appErrorOf } from '../support/errors.js';
import {
  CAPTURE_STATES,
  DERIVED,
  FIX,
  SPLIT,
  captureGpuRows,
  captureOutput,
  captureStatus,
  framedGpuOutput,
  readFixture,
} from '../support/nvidia-smi-output.js';

describe('buildGpuStatusCommand', () => {
  it('is one sh -c command with LC_ALL=C, the three queries and the section markers', () => {
    const cmd = buildGpuStatusCommand();
    expect(cmd.startsWith("sh -c '")).toBe(true);
    expect(cmd).toContain('LC_ALL=C; export LC_ALL');
    expect(cmd).toContain(`"nvidia-smi" --query-gpu=${GPU_QUERY_FIELDS.join(',')} --format=csv,noheader,nounits`);
    expect(cmd).toContain(`"nvidia-smi" --query-compute-apps=gpu_uuid,pid,process_name,used_memory --format=csv,noheader,nounits`);
    expect(cmd).toContain('"nvidia-smi" --version');
    for (const s of ['gpu', 'apps', 'version']) expect(cmd).toContain(frameBeginLine(s));
  });

  it('quotes the configured path so the shell runs it as one word', () => {
    const cmd = buildGpuStatusCommand(`/opt/my dir/it's $HOME/\`x\`/nvidia-smi`);
    expect(cmd).toContain(String.raw`"/opt/my dir/it'\''s \$HOME/\`x\`/nvidia-smi" --query-gpu=`);
  });
});

describe('parseGpuStatus on the captures', () => {
  it('GeForce RTX 2080 SUPER, Linux 595.71.05, load: fan, power as decimals, processes, CUDA from --version', () => {
    const s = captureStatus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'load');
    expect(s.driver_version).toBe('595.71.05');
    expect(s.cuda_version).toBe('13.2');
    expect(s.gpus).toEqual([
      {
        index: 0,
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        name: 'NVIDIA GeForce RTX 2080 SUPER',
        utilization_percent: 8,
        memory_used_mb: 819,
        memory_total_mb: 8192,
        memory_free_mb: 6967,
        temperature_celsius: 45,
        power_draw_watts: 111.5,
        power_limit_watts: 250,
        fan_speed_percent: 38,
        clocks_graphics_mhz: 2055,
        clocks_memory_mhz: 7500,
        clocks_max_graphics_mhz: 2145,
        throttle_reasons: [],
        pcie_generation: 3,
        pcie_width: 16,
        ecc_errors_uncorrected: null,
        encoder_percent: 100,
        decoder_percent: 0,
        persistence_mode: false,
        compute_mode: 'Default',
        mig_mode: null,
      },
    ]);
    expect(s.processes).toEqual([
      { gpu_index: 0, gpu_uuid: 'GPU-00000000-0000-0000-0000-000000000000', pid: 5268, process_name: 'ffmpeg', used_memory_mb: 370 },
      { gpu_index: 0, gpu_uuid: 'GPU-00000000-0000-0000-0000-000000000000', pid: 5267, process_name: 'ffmpeg', used_memory_mb: 230 },
    ]);
  });

  it('H100 idle: ECC counted (0), persistence on, MIG off, clocks held by gpu_idle, PCIe gen 5 x16', () => {
    const g = captureStatus('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01', 'idle').gpus[0];
    expect(g).toMatchObject({
      clocks_graphics_mhz: 345,
      clocks_memory_mhz: 2619,
      clocks_max_graphics_mhz: 1980,
      throttle_reasons: ['gpu_idle'],
      pcie_generation: 5,
      pcie_width: 16,
      ecc_errors_uncorrected: 0,
      encoder_percent: 0,
      decoder_percent: 0,
      persistence_mode: true,
      compute_mode: 'Default',
      mig_mode: false,
    });
  });

  it('H100 with MIG: mig_mode on, encoder and decoder [N/A] -> null', () => {
    const g = captureStatus('linux-x86_64__nvidia-h100-mig__590.48.01', 'load').gpus[0];
    expect(g).toMatchObject({ mig_mode: true, encoder_percent: null, decoder_percent: null, ecc_errors_uncorrected: 0 });
  });

  it('RTX 2080 SUPER idle on 595: the power cap holds the clocks (sw_power_cap), at PCIe gen 1', () => {
    const g = captureStatus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'idle').gpus[0];
    expect(g).toMatchObject({ throttle_reasons: ['sw_power_cap'], pcie_generation: 1, clocks_graphics_mhz: 765 });
  });

  it('Windows: persistence mode [N/A] -> null (WDDM has none)', () => {
    const g = captureStatus('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86', 'load').gpus[0];
    expect(g).toMatchObject({ persistence_mode: null, encoder_percent: 100, throttle_reasons: ['gpu_idle'] });
  });

  it.each(CAPTURE_STATES)(
    '%s %s: throttle_reasons decoded from the bitmask equal the per-reason columns nvidia-smi says are Active',
    (capture, state) => {
      const [header, row] = readFixture(SPLIT, capture, `${state}__query-gpu-csv-what-the-exporter-parses.txt`).split('\n');
      const names = header.split(', ');
      const cells = row.split(', ');
      const active = names
        .map((n, i) => [n, cells[i]] as const)
        .filter(([n, v]) => /^clocks_event_reasons\.[a-z_]+$/.test(n) && !/supported|active$/.test(n) && v === 'Active')
        .map(([n]) => n.slice('clocks_event_reasons.'.length));
      expect([...(captureStatus(capture, state).gpus[0].throttle_reasons ?? [])].sort()).toEqual(active.sort());
    },
  );

  it('idle with no compute processes gives an empty list', () => {
    const s = captureStatus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'idle');
    expect(s.processes).toEqual([]);
    expect(s.gpus[0].power_draw_watts).toBe(39.32);
    expect(s.gpus[0].utilization_percent).toBe(0);
  });

  it('H100 with MIG on: utilization is [N/A] -> null, fan [N/A] -> null, processes on the parent GPU', () => {
    const s = captureStatus('linux-x86_64__nvidia-h100-mig__590.48.01', 'load');
    expect(s.driver_version).toBe('590.48.01');
    expect(s.cuda_version).toBe('13.1');
    expect(s.gpus[0]).toMatchObject({
      name: 'NVIDIA H100 80GB HBM3',
      utilization_percent: null,
      fan_speed_percent: null,
      memory_used_mb: 11125,
      memory_total_mb: 81559,
      power_draw_watts: 433.78,
      power_limit_watts: 700,
      temperature_celsius: 53,
    });
    expect(s.processes.map((p) => [p.gpu_index, p.pid, p.process_name, p.used_memory_mb])).toEqual([
      [0, 21180, '/root/tools/memhog', 2296],
      [0, 21181, '/root/tools/memhog', 1272],
      [0, 21198, './gpu_burn', 7484],
    ]);
  });

  it('H100 without MIG under gpu_burn: utilization 100, fan null (datacenter card)', () => {
    const s = captureStatus('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01', 'load');
    expect(s.gpus[0].utilization_percent).toBe(100);
    expect(s.gpus[0].fan_speed_percent).toBeNull();
    expect(s.gpus[0].power_draw_watts).toBe(631.95);
  });

  it('610 Linux: driver from "KMD version", CUDA from "CUDA UMD version", never the "Deprecated" prose', () => {
    const s = captureStatus('linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04', 'load');
    expect(s.driver_version).toBe('610.57.04');
    expect(s.cuda_version).toBe('13.3');
    expect(s.gpus[0].power_draw_watts).toBe(98.14);
  });

  it('Windows WDDM 591.86: per-process memory [N/A] -> null, paths with spaces kept whole', () => {
    const s = captureStatus('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86', 'load');
    expect(s.cuda_version).toBe('13.1');
    expect(s.processes).toHaveLength(12);
    expect(s.processes.every((p) => p.used_memory_mb === null && p.gpu_index === 0)).toBe(true);
    expect(s.processes.find((p) => p.pid === 20372)?.process_name).toBe('C:\\Program Files\\NZXT CAM\\NZXT CAM.exe');
  });

  it('Windows 610.62: "(x86)" paths, KMD version', () => {
    const s = captureStatus('windows-x86_64__nvidia-geforce-rtx-2080-super__610.62', 'idle');
    expect(s.driver_version).toBe('610.62');
    expect(s.cuda_version).toBe('13.3');
    expect(s.processes.find((p) => p.pid === 23988)?.process_name).toBe(
      'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
    );
  });

  it.each(CAPTURE_STATES)('%s %s parses', (capture, state) => {
    const s = captureStatus(capture, state);
    expect(s.gpus).toHaveLength(1);
    expect(s.driver_version).toMatch(/^\d+\.\d+/);
    expect(s.cuda_version).toMatch(/^\d+\.\d+$/);
    expect(s.gpus[0].memory_total_mb).toBeGreaterThan(0);
  });

  it('a driver without --version (its section fails) gives cuda_version null and the CSV driver version', () => {
    const capture = 'linux-x86_64__nvidia-l40s__595.80';
    const { stdout, stderr } = framedGpuOutput([
      { name: 'gpu', stdout: captureGpuRows(capture, 'load', GPU_QUERY_FIELDS), exit: 0 },
      { name: 'apps', stdout: readFixture(DERIVED, `${capture}__load__apps__csv_noheader_nounits.txt`), exit: 0 },
      { name: 'version', stdout: '', exit: 2 },
    ]);
    const s = parseGpuStatus('whisper', stdout, stderr, 0);
    expect(s.cuda_version).toBeNull();
    expect(s.driver_version).toBe('595.80');
  });

  it('refuses rows whose column count does not match the query instead of guessing', () => {
    // The 19-column derived file where the 12-column answer is expected (a mismatched field list).
    const wide = readFixture(DERIVED, 'linux-x86_64__nvidia-l40s__595.80__load__gpu__csv_noheader_nounits.txt');
    const { stdout, stderr } = framedGpuOutput([{ name: 'gpu', stdout: wide, exit: 0 }]);
    const err = appErrorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.status).toBe(503);
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toContain("nvidia-smi on host 'whisper'");
    expect(err.message).toContain(`19 columns where ${GPU_QUERY_FIELDS.length}`);
  });
});

describe('parseGpuStatus: the sections', () => {
  it('process query failing after a good GPU query names the process query', () => {
    const capture = 'linux-x86_64__nvidia-l40s__595.80';
    const { stdout, stderr } = framedGpuOutput([
      { name: 'gpu', stdout: captureGpuRows(capture, 'load', GPU_QUERY_FIELDS), exit: 0 },
      { name: 'apps', stdout: readFixture(FIX, 'errors', 'invalid-query-field.txt'), exit: 2 },
    ]);
    const err = appErrorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.message).toContain('the process query');
  });

  it('output cut off (killed: exit code null, no end marker)', () => {
    const out = `${frameBeginLine('gpu')}\n`;
    const err = appErrorOf(() => parseGpuStatus('whisper', out, '', null));
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toContain('interrupted');
  });

  it('no markers at all: quotes the shell', () => {
    const err = appErrorOf(() => parseGpuStatus('whisper', '', 'sh: 1: Syntax error: Unterminated quoted string\n', 2));
    expect(err.message).toContain(`nvidia-smi on host 'whisper' failed: "sh: 1: Syntax error: Unterminated quoted string"`);
  });

  const l40s = 'linux-x86_64__nvidia-l40s__595.80';
  const l40sGpu = () => captureGpuRows(l40s, 'load', GPU_QUERY_FIELDS);

  it('a process name holding marker text, even whole marker lines of later sections, stays a process name', () => {
    const uuid = captureStatus(l40s, 'load').gpus[0].uuid;
    const { stdout, stderr } = framedGpuOutput([
      { name: 'gpu', stdout: l40sGpu(), exit: 0 },
      { name: 'apps', stdout: `${uuid}, 7, /opt/${frameEndLine('apps', 1)}/${frameBeginLine('version')}, 12\n`, exit: 0 },
      { name: 'version', stdout: readFixture(SPLIT, l40s, 'capabilities__version.txt'), exit: 0 },
    ]);
    const s = parseGpuStatus('whisper', stdout, stderr, 0);
    expect(s.processes).toEqual([
      {
        gpu_index: 0,
        gpu_uuid: uuid,
        pid: 7,
        process_name: `/opt/${frameEndLine('apps', 1)}/${frameBeginLine('version')}`,
        used_memory_mb: 12,
      },
    ]);
    expect(s.cuda_version).toBe('13.2');
  });

  it('the GPU section printed again later (a hostile process list) does not replace the real one', () => {
    const real = captureOutput(l40s, 'load');
    const fake = `${frameBeginLine('gpu')}\n0, fake, GPU-fake\n\n${frameEndLine('gpu', 0)}\n`;
    const stdout = real.stdout.replace(`${frameEndLine('apps', 0)}\n`, `${frameEndLine('apps', 0)}\n${fake}`);
    expect(stdout).toContain('GPU-fake');
    expect(parseGpuStatus('whisper', stdout, real.stderr, 0)).toEqual(captureStatus(l40s, 'load'));
  });

  it('CRLF line ends (a host or relay that converts them) parse the same', () => {
    const { stdout, stderr } = captureOutput(l40s, 'load');
    const crlf = (t: string) => t.replace(/\n/g, '\r\n');
    expect(parseGpuStatus('whisper', crlf(stdout), crlf(stderr), 0)).toEqual(captureStatus(l40s, 'load'));
  });

  it('the process section cut off after a good GPU query: says so instead of listing half the processes', () => {
    const { stdout, stderr } = captureOutput(l40s, 'load');
    const cut = stdout.slice(0, stdout.indexOf(frameEndLine('apps', 0)) - 1);
    const err = appErrorOf(() => parseGpuStatus('whisper', cut, stderr, null));
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toContain('the process query did not finish');
  });

  it('a failing GPU query is quoted from its own stderr section, not from a later one', () => {
    const { stdout, stderr } = framedGpuOutput([{ name: 'gpu', stdout: '', stderr: 'NVIDIA-SMI has failed: first\n', exit: 9 }]);
    const later = `${stderr}${frameBeginLine('apps')}\nsomething else\n`;
    const err = appErrorOf(() => parseGpuStatus('whisper', stdout, later, 0));
    expect(err.message).toContain('"NVIDIA-SMI has failed: first"');
    expect(err.message).not.toContain('something else');
  });
});
