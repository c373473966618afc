import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appErrorOf } from '../support/errors.js';
import {
  APP_QUERY_FIELDS,
  GPU_QUERY_FIELDS,
  buildGpuStatusCommand,
  isNoValue,
  parseGpuRows,
  parseGpuStatus,
  parseNvidiaSmiCsv,
  parseProcessRows,
  parseVersionOutput,
  sectionBeginMarker,
  sectionEndMarker,
  shellQuote,
} from '../../src/modules/gpu/nvidia-smi.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'nvidia-smi');
const DERIVED = join(FIX, 'csv', 'derived-from-captures');
const SPLIT = join(FIX, 'nvidia_gpu_exporter-split');
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

const CAPTURES = readdirSync(SPLIT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/**
 * The `--query-gpu` answer (noheader, nounits) a capture's driver gives for `fields`: columns picked by
 * name or alias from the capture's query of every field, with the unit its header names removed, as
 * nvidia-smi's nounits does.
 */
function captureGpuRows(capture: string, state: 'idle' | 'load', fields: readonly string[]): string {
  const [header, ...rows] = read(SPLIT, capture, `${state}__query-gpu-csv-what-the-exporter-parses.txt`).trimEnd().split('\n');
  const columns = header.split(', ').map((h) => ({ name: h.replace(/ \[.*\]$/, ''), unit: /\[(.*)\]$/.exec(h)?.[1] }));
  const aliases = new Map<string, string>();
  for (const line of read(SPLIT, capture, 'capabilities__help-query-gpu.txt').split('\n')) {
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

interface FramedSection {
  name: 'gpu' | 'apps' | 'version';
  stdout: string;
  stderr?: string;
  exit: number;
}

/** What the script from buildGpuStatusCommand() writes for these sections (see the fake-nvidia-smi test for the real run). */
function framed(sections: FramedSection[]): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  for (const s of sections) {
    stdout += `${sectionBeginMarker(s.name)}\n${s.stdout}\n${sectionEndMarker(s.name, s.exit)}\n`;
    stderr += `${sectionBeginMarker(s.name)}\n${s.stderr ?? ''}`;
  }
  return { stdout, stderr };
}

/** gpu_status output for one capture and state, built from the copied fixture files. */
function captureOutput(capture: string, state: 'idle' | 'load') {
  const appsFile = `${capture}__${state}__apps__csv_noheader_nounits.txt`;
  return framed([
    { name: 'gpu', stdout: captureGpuRows(capture, state, GPU_QUERY_FIELDS), exit: 0 },
    // The apps fixtures' order (gpu_uuid,pid,process_name,used_gpu_memory) is ours with the used_memory alias.
    { name: 'apps', stdout: read(DERIVED, appsFile), exit: 0 },
    { name: 'version', stdout: read(SPLIT, capture, 'capabilities__version.txt'), exit: 0 },
  ]);
}

function statusOf(capture: string, state: 'idle' | 'load') {
  const { stdout, stderr } = captureOutput(capture, state);
  return parseGpuStatus('whisper', stdout, stderr, 0);
}

const errorOf = appErrorOf;

describe('query field lists', () => {
  /** Field names (with aliases) a driver accepts, read from its captured --help-query-* text. */
  function accepted(helpText: string): Set<string> {
    const names = new Set<string>();
    for (const line of helpText.split('\n')) {
      if (line.startsWith('"')) for (const m of line.matchAll(/"([^"]+)"/g)) names.add(m[1]);
    }
    return names;
  }

  it('copies captures from several drivers (590, 591, 595, 610)', () => {
    expect(CAPTURES.length).toBeGreaterThanOrEqual(8);
  });

  it.each(CAPTURES)('every --query-gpu field is accepted by %s', (capture) => {
    const ok = accepted(read(SPLIT, capture, 'capabilities__help-query-gpu.txt'));
    expect(GPU_QUERY_FIELDS.filter((f) => !ok.has(f))).toEqual([]);
  });

  it.each(CAPTURES)('every --query-compute-apps field is accepted by %s', (capture) => {
    const ok = accepted(read(SPLIT, capture, 'capabilities__help-query-compute-apps.txt'));
    expect(APP_QUERY_FIELDS.filter((f) => !ok.has(f))).toEqual([]);
  });

  it('uses used_memory, the name the 2016 gpustat query used (the new drivers list it as an alias)', () => {
    expect(APP_QUERY_FIELDS).toContain('used_memory');
    const help610 = read(SPLIT, 'linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04', 'capabilities__help-query-compute-apps.txt');
    expect(help610).toContain('"used_gpu_memory" or "used_memory"');
  });

  it('does not ask for kmd_version (595+ only; 590/591 would refuse the query) or cuda_version (no driver knows it)', () => {
    const help = (c: string) => accepted(read(SPLIT, c, 'capabilities__help-query-gpu.txt'));
    expect(help('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01').has('kmd_version')).toBe(false);
    expect(help('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86').has('kmd_version')).toBe(false);
    expect(help('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05').has('kmd_version')).toBe(true);
    expect(CAPTURES.some((c) => help(c).has('cuda_version'))).toBe(false);
    expect(GPU_QUERY_FIELDS).not.toContain('kmd_version');
    expect(GPU_QUERY_FIELDS).not.toContain('cuda_version' as never);
  });
});

describe('buildGpuStatusCommand', () => {
  it('is one sh -c command with LC_ALL=C, the three queries and the section markers', () => {
    const cmd = buildGpuStatusCommand();
    expect(cmd.startsWith("sh -c '")).toBe(true);
    expect(cmd).toContain('LC_ALL=C; export LC_ALL');
    expect(cmd).toContain(`"nvidia-smi" --query-gpu=${GPU_QUERY_FIELDS.join(',')} --format=csv,noheader,nounits`);
    expect(cmd).toContain(`"nvidia-smi" --query-compute-apps=gpu_uuid,pid,process_name,used_memory --format=csv,noheader,nounits`);
    expect(cmd).toContain('"nvidia-smi" --version');
    for (const s of ['gpu', 'apps', 'version']) expect(cmd).toContain(sectionBeginMarker(s));
  });

  it('quotes the configured path so the shell runs it as one word', () => {
    const cmd = buildGpuStatusCommand(`/opt/my dir/it's $HOME/\`x\`/nvidia-smi`);
    expect(cmd).toContain(String.raw`"/opt/my dir/it'\''s \$HOME/\`x\`/nvidia-smi" --query-gpu=`);
  });

  it('shellQuote survives single quotes', () => {
    expect(shellQuote(`a'b`)).toBe(`'a'\\''b'`);
  });
});

describe('no-value tokens', () => {
  it.each([
    '[N/A]',
    'N/A',
    '[Not Supported]',
    '[Insufficient Permissions]',
    '[Unknown Error]',
    '[Requested functionality has been deprecated]',
    '[Function Not Found]',
    'ERR!',
    '',
    '  ',
  ])('%j is no value', (token) => {
    expect(isNoValue(token)).toBe(true);
  });

  it.each(['0', '38', '433.78', 'NVIDIA H100 80GB HBM3'])('%j is a value', (token) => {
    expect(isNoValue(token)).toBe(false);
  });
});

describe('parseGpuStatus on the captures', () => {
  it('GeForce RTX 2080 SUPER, Linux 595.71.05, load: fan, power as decimals, processes, CUDA from --version', () => {
    const s = statusOf('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'load');
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
    const g = statusOf('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01', 'idle').gpus[0];
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
    const g = statusOf('linux-x86_64__nvidia-h100-mig__590.48.01', 'load').gpus[0];
    expect(g).toMatchObject({ mig_mode: true, encoder_percent: null, decoder_percent: null, ecc_errors_uncorrected: 0 });
  });

  it('RTX 2080 SUPER idle on 595: the power cap holds the clocks (sw_power_cap), at PCIe gen 1', () => {
    const g = statusOf('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'idle').gpus[0];
    expect(g).toMatchObject({ throttle_reasons: ['sw_power_cap'], pcie_generation: 1, clocks_graphics_mhz: 765 });
  });

  it('Windows: persistence mode [N/A] -> null (WDDM has none)', () => {
    const g = statusOf('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86', 'load').gpus[0];
    expect(g).toMatchObject({ persistence_mode: null, encoder_percent: 100, throttle_reasons: ['gpu_idle'] });
  });

  it.each(CAPTURES.flatMap((c) => [[c, 'idle'] as const, [c, 'load'] as const]))(
    '%s %s: throttle_reasons decoded from the bitmask equal the per-reason columns nvidia-smi says are Active',
    (capture, state) => {
      const [header, row] = read(SPLIT, capture, `${state}__query-gpu-csv-what-the-exporter-parses.txt`).split('\n');
      const names = header.split(', ');
      const cells = row.split(', ');
      const active = names
        .map((n, i) => [n, cells[i]] as const)
        .filter(([n, v]) => /^clocks_event_reasons\.[a-z_]+$/.test(n) && !/supported|active$/.test(n) && v === 'Active')
        .map(([n]) => n.slice('clocks_event_reasons.'.length));
      expect([...(statusOf(capture, state).gpus[0].throttle_reasons ?? [])].sort()).toEqual(active.sort());
    },
  );

  it('idle with no compute processes gives an empty list', () => {
    const s = statusOf('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05', 'idle');
    expect(s.processes).toEqual([]);
    expect(s.gpus[0].power_draw_watts).toBe(39.32);
    expect(s.gpus[0].utilization_percent).toBe(0);
  });

  it('H100 with MIG on: utilization is [N/A] -> null, fan [N/A] -> null, processes on the parent GPU', () => {
    const s = statusOf('linux-x86_64__nvidia-h100-mig__590.48.01', 'load');
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
    const s = statusOf('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01', 'load');
    expect(s.gpus[0].utilization_percent).toBe(100);
    expect(s.gpus[0].fan_speed_percent).toBeNull();
    expect(s.gpus[0].power_draw_watts).toBe(631.95);
  });

  it('610 Linux: driver from "KMD version", CUDA from "CUDA UMD version", never the "Deprecated" prose', () => {
    const s = statusOf('linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04', 'load');
    expect(s.driver_version).toBe('610.57.04');
    expect(s.cuda_version).toBe('13.3');
    expect(s.gpus[0].power_draw_watts).toBe(98.14);
  });

  it('Windows WDDM 591.86: per-process memory [N/A] -> null, paths with spaces kept whole', () => {
    const s = statusOf('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86', 'load');
    expect(s.cuda_version).toBe('13.1');
    expect(s.processes).toHaveLength(12);
    expect(s.processes.every((p) => p.used_memory_mb === null && p.gpu_index === 0)).toBe(true);
    expect(s.processes.find((p) => p.pid === 20372)?.process_name).toBe('C:\\Program Files\\NZXT CAM\\NZXT CAM.exe');
  });

  it('Windows 610.62: "(x86)" paths, KMD version', () => {
    const s = statusOf('windows-x86_64__nvidia-geforce-rtx-2080-super__610.62', 'idle');
    expect(s.driver_version).toBe('610.62');
    expect(s.cuda_version).toBe('13.3');
    expect(s.processes.find((p) => p.pid === 23988)?.process_name).toBe(
      'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
    );
  });

  it.each(CAPTURES.flatMap((c) => [[c, 'idle'] as const, [c, 'load'] as const]))('%s %s parses', (capture, state) => {
    const s = statusOf(capture, state);
    expect(s.gpus).toHaveLength(1);
    expect(s.driver_version).toMatch(/^\d+\.\d+/);
    expect(s.cuda_version).toMatch(/^\d+\.\d+$/);
    expect(s.gpus[0].memory_total_mb).toBeGreaterThan(0);
  });

  it('a driver without --version (its section fails) gives cuda_version null and the CSV driver version', () => {
    const capture = 'linux-x86_64__nvidia-l40s__595.80';
    const { stdout, stderr } = framed([
      { name: 'gpu', stdout: captureGpuRows(capture, 'load', GPU_QUERY_FIELDS), exit: 0 },
      { name: 'apps', stdout: read(DERIVED, `${capture}__load__apps__csv_noheader_nounits.txt`), exit: 0 },
      { name: 'version', stdout: '', exit: 2 },
    ]);
    const s = parseGpuStatus('whisper', stdout, stderr, 0);
    expect(s.cuda_version).toBeNull();
    expect(s.driver_version).toBe('595.80');
  });

  it('refuses rows whose column count does not match the query instead of guessing', () => {
    // The 19-column derived file where the 12-column answer is expected (a mismatched field list).
    const wide = read(DERIVED, 'linux-x86_64__nvidia-l40s__595.80__load__gpu__csv_noheader_nounits.txt');
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: wide, exit: 0 }]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.status).toBe(503);
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toContain("nvidia-smi on host 'whisper'");
    expect(err.message).toContain(`19 columns where ${GPU_QUERY_FIELDS.length}`);
  });
});

describe('older drivers and other field lists', () => {
  const titanGpus = read(FIX, 'csv', 'gtx-titan-x-x3_gpustat-2016_noheader_nounits.txt');
  const titanApps = read(FIX, 'csv', 'gtx-titan-x-x3_gpustat-2016_compute-apps_noheader_nounits.txt');
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
    const [row] = parseNvidiaSmiCsv(read(FIX, 'csv', 'rtx2080_440.64_noheader_nounits.txt'), fields);
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
    const v = parseVersionOutput(read(SPLIT, capture, 'capabilities__version.txt'));
    const [, driver] = capture.split('__').slice(-2);
    expect(v.driver_version).toBe(driver);
    expect(v.cuda_version).toMatch(/^13\.[123]$/);
  });
});

describe('failures', () => {
  const errLine = (file: string) => read(FIX, 'errors', file).split('\n')[0];

  it('driver not loaded (exit 9, message on stdout)', () => {
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: read(FIX, 'errors', 'driver-not-loaded.stdout.txt'), exit: 9 }]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.status).toBe(503);
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toBe(
      `nvidia-smi on host 'whisper' failed: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."; make sure the NVIDIA driver is installed and loaded (\`lsmod | grep nvidia\`; after installing or upgrading it, reboot or load the module with \`modprobe nvidia\`) (exit code 9).`,
    );
  });

  it.each(['command-not-found.dash-sh-c.stderr.txt', 'command-not-found.bash-c.stderr.txt', 'command-not-found.bash.stderr.txt'])(
    'nvidia-smi missing: %s',
    (file) => {
      const { stdout, stderr } = framed([{ name: 'gpu', stdout: '', stderr: `${errLine(file)}\n`, exit: 127 }]);
      const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
      expect(err.code).toBe('GPU_UNAVAILABLE');
      expect(err.message).toContain(`nvidia-smi on host 'whisper' failed: "${errLine(file)}"`);
      expect(err.message).toContain('install the NVIDIA driver');
      expect(err.message).toContain('nvidia_smi_path');
      expect(err.message).toContain('(exit code 127)');
    },
  );

  it('names the account and both spellings of the setting, and speaks of SSH only for an ssh host', () => {
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: '', stderr: 'sh: 1: nvidia-smi: not found\n', exit: 127 }]);
    const overSsh = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0, undefined, 'ssh'));
    expect(overSsh.message).toContain('not on the PATH of the SSH account');
    expect(overSsh.message).toContain("NVIDIA_SMI_PATH (YAML: the host's nvidia_smi_path)");
    const local = errorOf(() => parseGpuStatus('local', stdout, stderr, 0, undefined, 'local'));
    expect(local.message).toContain('not on the PATH of the account gpu-host-tools runs as');
    expect(local.message).toContain('NVIDIA_SMI_PATH');
    expect(local.message).not.toMatch(/ssh/i);
    const notExecutable = framed([{ name: 'gpu', stdout: '', stderr: 'sh: 1: /opt/nv/nvidia-smi: Permission denied\n', exit: 126 }]);
    const denied = errorOf(() => parseGpuStatus('local', notExecutable.stdout, notExecutable.stderr, 0, undefined, 'local'));
    expect(denied.message).toContain('NVIDIA_SMI_PATH / nvidia_smi_path');
    expect(denied.message).toContain('cannot be executed by the account gpu-host-tools runs as');
    expect(denied.message).not.toMatch(/ssh/i);
  });

  it('NVML driver/library mismatch: reboot after the driver upgrade', () => {
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: read(FIX, 'errors', 'nvml-driver-library-mismatch.txt'), exit: 18 }]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.message).toContain('"Failed to initialize NVML: Driver/library version mismatch"');
    expect(err.message).toContain('reboot the host');
  });

  it('NVML unknown error: container hint', () => {
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: read(FIX, 'errors', 'nvml-unknown-error.txt'), exit: 255 }]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.message).toContain('"Failed to initialize NVML: Unknown Error"');
    expect(err.message).toContain('NVIDIA Container Toolkit');
  });

  it('no devices (exit 6)', () => {
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: read(FIX, 'errors', 'no-devices-found.txt'), exit: 6 }]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.message).toContain('"No devices were found"');
    expect(err.message).toContain('lspci');
    expect(err.message).toContain('(exit code 6)');
  });

  it('invalid field', () => {
    const { stdout, stderr } = framed([{ name: 'gpu', stdout: read(FIX, 'errors', 'invalid-query-field.txt'), exit: 2 }]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.message).toContain('"Field "cuda_version" is not a valid field to query."');
    expect(err.message).toContain('does not know a field');
  });

  it('process query failing after a good GPU query names the process query', () => {
    const capture = 'linux-x86_64__nvidia-l40s__595.80';
    const { stdout, stderr } = framed([
      { name: 'gpu', stdout: captureGpuRows(capture, 'load', GPU_QUERY_FIELDS), exit: 0 },
      { name: 'apps', stdout: read(FIX, 'errors', 'invalid-query-field.txt'), exit: 2 },
    ]);
    const err = errorOf(() => parseGpuStatus('whisper', stdout, stderr, 0));
    expect(err.message).toContain('the process query');
  });

  it('output cut off (killed: exit code null, no end marker)', () => {
    const out = `${sectionBeginMarker('gpu')}\n`;
    const err = errorOf(() => parseGpuStatus('whisper', out, '', null));
    expect(err.code).toBe('GPU_UNAVAILABLE');
    expect(err.message).toContain('interrupted');
  });

  it('no markers at all: quotes the shell', () => {
    const err = errorOf(() => parseGpuStatus('whisper', '', 'sh: 1: Syntax error: Unterminated quoted string\n', 2));
    expect(err.message).toContain(`nvidia-smi on host 'whisper' failed: "sh: 1: Syntax error: Unterminated quoted string"`);
  });
});
