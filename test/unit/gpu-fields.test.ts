/**
 * Which --query-gpu fields a driver takes: learned from its --help-query-gpu (real captures of 590, 591,
 * 595 and 610) and from refusals, and the whole loop run against the fake nvidia-smi emulating an older
 * driver that lacks some fields.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_QUERY_FIELDS,
  GPU_FIELD_NAMES,
  GPU_QUERY_FIELDS,
  chooseGpuFields,
  parseHelpQueryFields,
  refusedQueryField,
} from '../../src/modules/gpu/gpu-fields.js';
import { buildGpuStatusCommand, buildHelpQueryGpuCommand, parseGpuStatus } from '../../src/modules/gpu/nvidia-smi.js';
import { QueryFieldRefused } from '../../src/modules/gpu/nvidia-smi-failures.js';
import { appErrorOf } from '../support/errors.js';
import { installFakeNvidiaSmi, setNvidiaSmiScenario, setNvidiaSmiUnknownFields } from '../support/fake-nvidia-smi.js';
import { CAPTURES, FIX, SPLIT, readFixture } from '../support/nvidia-smi-output.js';

const help = (capture: string) => readFixture(SPLIT, capture, 'capabilities__help-query-gpu.txt');

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
    const text = readFixture(FIX, 'errors', 'invalid-query-field.txt');
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
    const ok = accepted(readFixture(SPLIT, capture, 'capabilities__help-query-gpu.txt'));
    expect(GPU_QUERY_FIELDS.filter((f) => !ok.has(f))).toEqual([]);
  });

  it.each(CAPTURES)('every --query-compute-apps field is accepted by %s', (capture) => {
    const ok = accepted(readFixture(SPLIT, capture, 'capabilities__help-query-compute-apps.txt'));
    expect(APP_QUERY_FIELDS.filter((f) => !ok.has(f))).toEqual([]);
  });

  it('uses used_memory, the name the 2016 gpustat query used (the new drivers list it as an alias)', () => {
    expect(APP_QUERY_FIELDS).toContain('used_memory');
    const help610 = readFixture(
      SPLIT,
      'linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04',
      'capabilities__help-query-compute-apps.txt',
    );
    expect(help610).toContain('"used_gpu_memory" or "used_memory"');
  });

  it('does not ask for kmd_version (595+ only; 590/591 would refuse the query) or cuda_version (no driver knows it)', () => {
    const help = (c: string) => accepted(readFixture(SPLIT, c, 'capabilities__help-query-gpu.txt'));
    expect(help('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01').has('kmd_version')).toBe(false);
    expect(help('windows-x86_64__nvidia-geforce-rtx-2080-super__591.86').has('kmd_version')).toBe(false);
    expect(help('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05').has('kmd_version')).toBe(true);
    expect(CAPTURES.some((c) => help(c).has('cuda_version'))).toBe(false);
    expect(GPU_QUERY_FIELDS).not.toContain('kmd_version');
    expect(GPU_QUERY_FIELDS).not.toContain('cuda_version' as never);
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
