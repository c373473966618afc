/**
 * Every pure parser and matcher that request input or a host's output reaches, fed the inputs that make
 * backtracking regexes and naive loops super-linear, at the largest size that can reach it (the DTO limit
 * for request fields, the 1 MiB stdout cap for host output). Each must give its normal answer (checked)
 * quickly: the bound is generous (seconds for what takes milliseconds), so it only fails on a blow-up,
 * which at these sizes takes minutes or hours.
 */
import { describe, expect, it } from 'vitest';
import { checkCommandPolicy } from '../../src/modules/shell/shell-policy.js';
import { parseModelfile } from '../../src/modules/ollama/modelfile.js';
import { parseParametersText } from '../../src/modules/ollama/ollama-format.js';
import { parseDf, parseHostResources, parseMeminfo } from '../../src/modules/hosts/host-resources.js';
import { parseVersionOutput } from '../../src/modules/gpu/nvidia-smi-csv.js';
import { parseGpuStatus } from '../../src/modules/gpu/nvidia-smi.js';
import { parseFramedSections } from '../../src/infra/framed-sections.js';
import { isValidModelName } from '../../src/infra/ollama/model-name.js';
import { unifiedDiff } from '../../src/modules/files/unified-diff.js';
import { AppError } from '../../src/common/errors.js';

const MiB = 1024 * 1024;
/** The stdout the server keeps of a host command (gpu_status, host_resources). */
const HOST_OUTPUT = Number(process.env.SLOW_SIZE ?? MiB);
/** ollama_create_model's modelfile limit. */
const MODELFILE = Number(process.env.SLOW_SIZE ?? MiB);
const BOUND_MS = 3000;

function timed<T>(fn: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
}

function quick<T>(fn: () => T): T {
  const { value, ms } = timed(fn);
  expect(ms).toBeLessThan(BOUND_MS);
  return value;
}

/** The result, or the AppError thrown (anything else fails the test). */
function outcome<T>(fn: () => T): T | AppError {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
}

const fill = (unit: string, bytes: number) => unit.repeat(Math.floor(bytes / unit.length));

describe('Modelfile parsing (ollama_create_model, 1 MiB)', () => {
  it.each([
    ['a float of a million digits', `FROM llama3.2\nPARAMETER temperature ${fill('1', MODELFILE - 40)}x`, /needs a number/],
    ['an int of a million digits', `FROM llama3.2\nPARAMETER num_ctx ${fill('1', MODELFILE - 40)}x`, /needs a whole number/],
    ['an unclosed """ over half a million empty lines', `FROM llama3.2\nTEMPLATE """${fill('\n', MODELFILE - 40)}`, /never closed/],
    ['an unclosed " over lines of spaces', `FROM llama3.2\nSYSTEM "${fill('   \n', MODELFILE - 40)}`, /never closed/],
    ['one line of a million spaces', `FROM llama3.2\nSYSTEM${fill(' ', MODELFILE - 40)}x`, null],
    ['a million quote characters', `FROM llama3.2\nSYSTEM ${fill('"', MODELFILE - 40)}`, null],
    ['a FROM path of a million slashes', `FROM ${fill('/', MODELFILE - 40)}blobs/sha256-x`, /names a file on disk/],
    ['a FROM name of a million letters', `FROM ${fill('a', MODELFILE - 40)}:`, /not a valid model name/],
    ['half a million PARAMETER stop lines', `FROM llama3.2\n${fill('PARAMETER stop x\n', MODELFILE - 40)}`, null],
  ])('%s', (_name, text, error) => {
    const result = quick(() => outcome(() => parseModelfile(text)));
    if (error) expect((result as AppError).message).toMatch(error);
  });

  it('still ends a multi-line value at the first line that closes it', () => {
    expect(parseModelfile('FROM x\nSYSTEM """a\n  b"""  \nPARAMETER top_k 1').system).toBe('a\n  b');
    expect(parseModelfile('FROM x\nSYSTEM "a\n\n b"\n').system).toBe('a\n\n b');
    expect(parseModelfile('FROM x\nTEMPLATE """\n"""').template).toBe('\n');
    expect(parseModelfile('FROM x\nPARAMETER temperature 1.5e3').parameters).toEqual({ temperature: 1500 });
  });
});

describe('parsing what a hostile host prints back (1 MiB, the stdout the server keeps)', () => {
  it('show parameters with a long run of spaces inside a value', () => {
    const text = `stop "a${fill(' ', HOST_OUTPUT - 10)}b"\ntemperature 0.7`;
    const params = quick(() => parseParametersText(text));
    expect(params.temperature).toBe(0.7);
    expect(parseParametersText('num_ctx    4096\nstop   "<|eot|>"   ')).toEqual({ num_ctx: 4096, stop: ['<|eot|>'] });
  });

  it('show parameters with a million-digit number', () => {
    expect(quick(() => parseParametersText(`seed ${fill('9', HOST_OUTPUT - 10)}.x`)).seed).toMatch(/^9+\.x$/);
  });

  it.each([
    ['spaces and no colon', `A${fill(' ', HOST_OUTPUT)}`],
    ['spaces after the colon', `Driver Version :${fill(' ', HOST_OUTPUT - 20)}x`],
    ['letters and spaces', fill('a ', HOST_OUTPUT)],
  ])('nvidia-smi --version output: %s', (_name, text) => {
    expect(quick(() => parseVersionOutput(text))).toEqual({ driver_version: null, cuda_version: null });
  });

  it('nvidia-smi --version output still reads the versions', () => {
    expect(parseVersionOutput('NVIDIA-SMI version  : 550.54\nDRIVER version  :  550.54.14  \nCUDA Version : 12.4')).toMatchObject({
      driver_version: '550.54.14',
      cuda_version: '12.4',
    });
  });

  it.each([
    ['numbers and spaces', fill('1 ', HOST_OUTPUT)],
    ['a long file system name', `${fill('a', HOST_OUTPUT - 30)} 1 1 1 1% /`],
    ['spaces between the numbers', `/dev/sda${fill(' ', HOST_OUTPUT / 2)}1 1 1 x`],
    ['digits without the last field', `${fill('1 1 1 1 ', HOST_OUTPUT)}`],
  ])('df output: %s', (_name, text) => {
    quick(() => parseDf(text));
  });

  it('meminfo with spaces', () => {
    expect(quick(() => parseMeminfo(`MemTotal: 1${fill(' ', HOST_OUTPUT)}x`)).size).toBe(0);
  });

  it.each([
    ['many begin markers', fill('@@gpu-host-tools:begin:df@@\n', HOST_OUTPUT)],
    ['a section that never ends', `@@gpu-host-tools:begin:df@@\n${fill('1 ', HOST_OUTPUT)}`],
    ['marker-like noise', fill('@@gpu-host-tools:end:', HOST_OUTPUT)],
  ])('host_resources output: %s', (_name, text) => {
    quick(() => outcome(() => parseHostResources('whisper', text)));
  });

  it.each([
    ['many begin markers', fill('@@gpu-host-tools:begin:gpus@@\n', HOST_OUTPUT)],
    ['a CSV row of a million commas', `@@gpu-host-tools:begin:gpus@@\n${fill(',', HOST_OUTPUT)}`],
    ['brackets', `@@gpu-host-tools:begin:gpus@@\n0, ${fill('[', HOST_OUTPUT)}`],
    ['a version section of spaces', `@@gpu-host-tools:begin:version@@\nA${fill(' ', HOST_OUTPUT)}`],
  ])('gpu_status output: %s', (_name, text) => {
    quick(() => outcome(() => parseGpuStatus('whisper', text, '', 0)));
  });

  it.each([
    ['end lines that are not whole lines', `@@gpu-host-tools:begin:one@@\n${fill('\n@@gpu-host-tools:end:one:0@@x', HOST_OUTPUT)}`],
    ['begin lines that are not whole lines', `@@gpu-host-tools:begin:one@@\n${fill('@@gpu-host-tools:begin:two@@x\n', HOST_OUTPUT)}`],
    ['end prefixes without a status', `@@gpu-host-tools:begin:one@@\n${fill('\n@@gpu-host-tools:end:one:', HOST_OUTPUT)}`],
  ])('framed sections: %s', (_name, text) => {
    const sections = quick(() => parseFramedSections(['one', 'two'], text, text));
    expect(sections.get('one')?.exitCode).toBeNull();
  });
});

describe('request fields checked by patterns', () => {
  it('model names at and past their length limit', () => {
    for (const name of [fill('a', 1000), `${fill('a.', 400)}/x`, `${fill('a/', 500)}`, `a:${fill('-', 1000)}`, fill('a-', 100_000)])
      expect(quick(() => isValidModelName(name))).toBe(false);
  });

  it('a 16 KiB command against the example deny pattern', () => {
    const policy = {
      enabled: true,
      default_timeout_seconds: 60,
      max_timeout_seconds: 400,
      max_output_bytes: 65536,
      max_read_bytes: MiB,
      allow: [],
      deny: ['\\brm\\s+-rf\\s+/(\\s|$)'],
    };
    for (const command of [fill('rm ', 16_384), `rm${fill(' ', 16_000)}-rf`, fill('rm -rf ', 16_384), `rm -rf${fill('\t', 16_000)}/x`])
      quick(() => checkCommandPolicy('whisper', policy, command));
  });
});

describe('files_edit diff of large files (10 MiB)', () => {
  const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i) + '\n').join('');

  it('a one-line change in a 10 MiB file of short lines', () => {
    const old = lines(1_000_000, (i) => `line ${i}`);
    const changed = old.replace('line 500000\n', 'line 500000 changed\n');
    const diff = quick(() => unifiedDiff(old, changed));
    expect(diff).toContain('-line 500000\n+line 500000 changed\n');
    expect(diff.split('\n').length).toBeLessThan(20);
  });

  it('every line changed in a 10 MiB file', () => {
    const old = lines(1_000_000, (i) => `${i}`);
    const changed = lines(1_000_000, (i) => `${i}!`);
    const diff = quick(() => unifiedDiff(old, changed));
    expect(diff.length).toBeLessThan(2 * MiB);
    expect(diff).toMatch(/^--- a\n\+\+\+ b\n/);
  });

  it('a change at each end of 2 MiB of repeated lines (long diagonals for the edit script)', () => {
    const body = lines(200_000, (i) => (i % 2 ? 'a' : 'b'));
    const diff = quick(() => unifiedDiff(`x\n${body}y\n`, `y\n${body}x\n`));
    expect(diff).toContain('-x\n');
  });

  it('2000 scattered changes in 1 MiB', () => {
    const old = lines(100_000, (i) => `l${i}`);
    const changed = lines(100_000, (i) => (i % 50 === 0 ? `changed ${i}` : `l${i}`));
    const diff = quick(() => unifiedDiff(old, changed));
    expect(diff).toContain('+changed 50\n');
  });
});
