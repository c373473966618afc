/**
 * Which --query-gpu fields a driver takes: learned from its --help-query-gpu (real captures of 590, 591,
 * 595 and 610) and from refusals, and the whole loop run against the fake nvidia-smi emulating an older
 * driver that lacks some fields.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GPU_FIELD_NAMES,
  GPU_QUERY_FIELDS,
  QueryFieldRefused,
  buildGpuStatusCommand,
  buildHelpQueryGpuCommand,
  chooseGpuFields,
  parseGpuStatus,
  parseHelpQueryFields,
  refusedQueryField,
  throttleReasonWords,
} from '../../src/modules/gpu/nvidia-smi.js';
import { appErrorOf } from '../support/errors.js';
import {
  NVIDIA_SMI_FIXTURES_DIR,
  installFakeNvidiaSmi,
  setNvidiaSmiScenario,
  setNvidiaSmiUnknownFields,
} from '../support/fake-nvidia-smi.js';

const SPLIT = join(NVIDIA_SMI_FIXTURES_DIR, 'nvidia_gpu_exporter-split');
const CAPTURES = readdirSync(SPLIT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const help = (capture: string) => readFileSync(join(SPLIT, capture, 'capabilities__help-query-gpu.txt'), 'utf8');

describe('parseHelpQueryFields on the captures', () => {
  it.each(CAPTURES)('%s: every entry name and alias, nothing from the descriptions', (capture) => {
    const names = parseHelpQueryFields(help(capture))!;
    expect(names.has('index')).toBe(true);
    expect(names.has('gpu_uuid')).toBe(true); // alias on the same line as "uuid"
    expect(names.has('clocks_event_reasons.active') && names.has('clocks_throttle_reasons.active')).toBe(true);
    expect(names.has('cuda_version')).toBe(false);
    // Descriptions quote option syntax and prose; only names are kept.
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_.]+$/);
    expect(names.size).toBeGreaterThan(150);
  });

  it('gives null for text that lists no field (an error message, an empty answer)', () => {
    expect(parseHelpQueryFields('')).toBeNull();
    expect(parseHelpQueryFields("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")).toBeNull();
    expect(parseHelpQueryFields('  "indented" is not an entry\n')).toBeNull();
  });
});

describe('chooseGpuFields', () => {
  it.each(CAPTURES)('%s knows every preferred name: the full query', (capture) => {
    expect(chooseGpuFields(parseHelpQueryFields(help(capture)), new Set())).toEqual([...GPU_QUERY_FIELDS]);
  });

  it('a pre-530 driver (clocks_throttle_reasons only) gets the old name; a value with no known name is left out', () => {
    const accepted = parseHelpQueryFields(help(CAPTURES[0]))!;
    accepted.delete('clocks_event_reasons.active');
    accepted.delete('fan.speed');
    const fields = chooseGpuFields(accepted, new Set());
    expect(fields).toContain('clocks_throttle_reasons.active');
    expect(fields).not.toContain('clocks_event_reasons.active');
    expect(fields).not.toContain('fan.speed');
    expect(fields).toHaveLength(GPU_QUERY_FIELDS.length - 1);
  });

  it('without a field list, refusals alone narrow it, alias after alias', () => {
    expect(chooseGpuFields(null, new Set())).toEqual([...GPU_QUERY_FIELDS]);
    const once = chooseGpuFields(null, new Set(['clocks.current.graphics']));
    expect(once).toContain('clocks.gr');
    const twice = chooseGpuFields(null, new Set(['clocks.current.graphics', 'clocks.gr']));
    expect(twice.some((f) => f === 'clocks.gr' || f === 'clocks.current.graphics')).toBe(false);
  });

  it('never drops index, name or uuid, even when refused (the query then fails with the driver words)', () => {
    const fields = chooseGpuFields(new Set(), new Set(['index', 'name', 'gpu_name', 'uuid', 'gpu_uuid']));
    expect(fields).toEqual(['index', 'name', 'uuid']);
  });

  it('every value has distinct names (one name cannot answer two values)', () => {
    const all = GPU_FIELD_NAMES.flat();
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('refusedQueryField', () => {
  it("reads nvidia-smi's refusal (the captured text)", () => {
    const text = readFileSync(join(NVIDIA_SMI_FIXTURES_DIR, 'errors', 'invalid-query-field.txt'), 'utf8');
    expect(refusedQueryField(text)).toBe('cuda_version');
    expect(refusedQueryField('Field "fan.speed" is not a valid field to query.\n')).toBe('fan.speed');
  });

  it('gives null for anything else, including a hostile host printing near misses or huge names', () => {
    expect(refusedQueryField('No devices were found')).toBeNull();
    expect(refusedQueryField('Field "" is not a valid field to query.')).toBeNull();
    expect(refusedQueryField(`Field "${'x'.repeat(5000)}" is not a valid field to query.`)).toBeNull();
    expect(refusedQueryField('Field "a\nb" is not a valid field to query.')).toBeNull();
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

describe('learning against the fake nvidia-smi as an older driver', () => {
  let bin: string;
  const smi = () => join(bin, 'nvidia-smi');
  const sh = (command: string) => {
    const r = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
  };

  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'gpu-fields-'));
    installFakeNvidiaSmi(bin);
    setNvidiaSmiScenario(bin, 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__idle');
    setNvidiaSmiUnknownFields(bin, ['fan.speed', 'clocks_event_reasons.active', 'utilization.encoder']);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('the full query is refused with the first unknown field named, exit 2', () => {
    const r = sh(buildGpuStatusCommand(smi(), { gpuFields: GPU_QUERY_FIELDS }));
    const err = appErrorOf(() => parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode));
    expect(err).toBeInstanceOf(QueryFieldRefused);
    expect((err as QueryFieldRefused).field).toBe('fan.speed');
    expect(err.status).toBe(503);
    expect(err.message).toContain('Field "fan.speed" is not a valid field to query.');
    expect(err.message).toContain('(exit code 2)');
  });

  it('from --help-query-gpu: the fields it knows, the old throttle name, null for the rest', () => {
    const helpRun = sh(buildHelpQueryGpuCommand(smi()));
    expect(helpRun.exitCode).toBe(0);
    const fields = chooseGpuFields(parseHelpQueryFields(helpRun.stdout), new Set());
    expect(fields).toContain('clocks_throttle_reasons.active');
    const r = sh(buildGpuStatusCommand(smi(), { gpuFields: fields }));
    const s = parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode, fields);
    expect(s.gpus[0]).toMatchObject({
      fan_speed_percent: null,
      encoder_percent: null,
      throttle_reasons: ['sw_power_cap'],
      memory_total_mb: 8192,
      decoder_percent: 0,
    });
  });

  it('from refusals alone (no field list): each answer names the next unknown field until the query works', () => {
    const refused = new Set<string>();
    let fields = chooseGpuFields(null, refused);
    const seen: string[] = [];
    for (let attempt = 0; attempt < GPU_FIELD_NAMES.length; attempt++) {
      const r = sh(buildGpuStatusCommand(smi(), { gpuFields: fields, version: false }));
      try {
        const s = parseGpuStatus('whisper', r.stdout, r.stderr, r.exitCode, fields);
        expect(s.gpus[0].fan_speed_percent).toBeNull();
        expect(s.gpus[0].throttle_reasons).toEqual(['sw_power_cap']);
        break;
      } catch (err) {
        expect(err).toBeInstanceOf(QueryFieldRefused);
        seen.push((err as QueryFieldRefused).field);
        refused.add((err as QueryFieldRefused).field);
        fields = chooseGpuFields(null, refused);
      }
    }
    expect(seen).toEqual(['fan.speed', 'clocks_event_reasons.active', 'utilization.encoder']);
  });
});
