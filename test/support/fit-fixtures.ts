/**
 * Real captures for the VRAM estimate and the fit verdict (provenance in test/fixtures/ollama/PROVENANCE.md
 * and test/fixtures/nvidia-smi/PROVENANCE.md): model_info of four models, llama3.2's size, Ollama's own
 * memory log line, and GPUs as nvidia-smi reported them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGpuRows } from '../../src/modules/gpu/nvidia-smi-csv.js';
import type { FitGpu } from '../../src/modules/ollama/model-fit.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const json = (...p: string[]) => JSON.parse(readFileSync(join(FIXTURES, ...p), 'utf8')) as Record<string, unknown>;

export const MIB = 1024 * 1024;

export const LLAMA3_8B = (json('ollama', 'show_docs_example.json') as { model_info: Record<string, unknown> }).model_info;
export const LLAMA2_7B = json('ollama', 'model_info', 'llama2-7b_ollama-rs-issue163.json');
export const GEMMA2_2B = json('ollama', 'model_info', 'gemma2-2b_ollama-issue7610.json');
export const LLAMA32_3B = json('ollama', 'model_info', 'llama3.2-3b_ollama-issue7673.json');
/** llama3.2's blob size (the model layer of `llama3.2:latest`, sha256:dde5aa3fc5ff…). */
export const LLAMA32_BYTES = 2019393189;

/** Ollama's server log of its memory estimate for llama3.2 at 8192 tokens. */
export const LLAMA32_MEMORY_LOG = readFileSync(join(FIXTURES, 'ollama', 'memory_estimate_llama3.2_issue8098.txt'), 'utf8');
/** A `name="<n> MiB"` figure of that log. */
export const memoryLogMib = (name: string) => new RegExp(`${name.replace(/\./g, '\\.')}="([\\d.]+) MiB"`).exec(LLAMA32_MEMORY_LOG)?.[1];

// The derived CSVs' column order (index.json).
const DERIVED_FIELDS = ['index', 'name', 'uuid', 'driver_version', 'pci.bus_id', 'memory.total', 'memory.used', 'memory.free'];
function capturedGpus(capture: string): FitGpu[] {
  const text = readFileSync(
    join(FIXTURES, 'nvidia-smi', 'csv', 'derived-from-captures', `${capture}__gpu__csv_noheader_nounits.txt`),
    'utf8',
  );
  const fields = [...DERIVED_FIELDS, ...Array.from({ length: 11 }, (_, i) => `unused.${i}`)];
  return parseGpuRows(text, fields);
}
export const RTX2080_IDLE = capturedGpus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__idle'); // 8192 MiB, 7571 free
export const RTX2080_LOAD = capturedGpus('linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load'); // 6967 free
export const L40S = capturedGpus('linux-x86_64__nvidia-l40s__595.80__idle'); // 46068 MiB
export const H100 = capturedGpus('linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__idle'); // 81559 MiB
/** The 3x TITAN X gpustat output: 12287 MiB each, 8000/9000/8520 used, no memory.free column. */
export const TITAN_X3 = parseGpuRows(
  readFileSync(join(FIXTURES, 'nvidia-smi', 'csv', 'gtx-titan-x-x3_gpustat-2016_noheader_nounits.txt'), 'utf8'),
  ['index', 'uuid', 'name', 'temperature.gpu', 'utilization.gpu', 'memory.used', 'memory.total'],
);
