/**
 * A fake Ollama HTTP server (node:http only) that speaks the real server's protocol (captured answers are in
 * test/fixtures/ollama): the same routes, methods, status codes, empty 200 bodies, NDJSON
 * streams, error texts (including the single vs double quotes of delete and copy) and Go-isms (HTML-escaped
 * JSON, gin's 404/405 texts, Go's JSON decode errors, RFC 3339 nanosecond timestamps with the local offset).
 *
 * It is seeded from the captured fixtures (test/fixtures/ollama/) plus `requirements-agent:latest`, the
 * model of the user's scenario ("show its Modelfile, set temperature 0.6, create again, show again").
 *
 * Everything a test may want to arrange lives in `state` and is mutable while the server runs: models,
 * loaded models, the registry that pulls download from, blob store, delays, hang / stall / mid-stream error
 * switches, and a log of every request and every pull or create the client cancelled.
 *
 * Model names are validated with an independent port of Ollama's Go rule (not the project's regex), so a
 * mistake in src/ is not mirrored here.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------

export interface FakeDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
  context_length?: number;
  embedding_length?: number;
}

export type FakeLayerKind = 'model' | 'projector' | 'adapter' | 'template' | 'system' | 'params' | 'license' | 'messages' | 'config';

export interface FakeLayer {
  /** `sha256:<64 hex>` */
  digest: string;
  size: number;
  kind: FakeLayerKind;
}

export type FakeParamValue = number | boolean | string | string[];

export interface FakeModel {
  /** Display name as Ollama lists it (`llama3.2:latest`, `hf.co/user/repo:Q4_K_M`). */
  name: string;
  modified_at: string;
  /** Manifest digest, 64 hex, no prefix. */
  digest: string;
  size: number;
  details: FakeDetails;
  layers: FakeLayer[];
  capabilities?: string[];
  remote_model?: string;
  remote_host?: string;
  template?: string;
  system?: string;
  parameters?: Record<string, FakeParamValue>;
  license?: string[];
  messages?: { role: string; content: string }[];
  renderer?: string;
  parser?: string;
  model_info?: Record<string, unknown>;
  /** When set, `show` returns this text as `modelfile` instead of generating it. */
  modelfile?: string;
}

export interface FakeRegistryModel {
  layers: FakeLayer[];
  details: FakeDetails;
  template?: string;
  system?: string;
  parameters?: Record<string, FakeParamValue>;
  license?: string[];
  capabilities?: string[];
  model_info?: Record<string, unknown>;
}

export interface FakeLoadedModel {
  expires_at: string;
  size: number;
  size_vram: number;
  context_length: number;
  /** Snapshot, so a model deleted while loaded still lists. */
  model: FakeModel;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the body was JSON, the raw text otherwise, undefined when empty. */
  body: unknown;
  at: number;
}

export interface FakeCancel {
  kind: 'pull' | 'create';
  model: string;
  /** NDJSON lines written before the client went away. */
  linesSent: number;
  at: number;
}

export interface FakeOllamaState {
  version: string;
  /** Keyed by canonical lower-case name (`registry.ollama.ai/library/llama3.2:latest`); see `modelKey`. */
  models: Map<string, FakeModel>;
  loaded: Map<string, FakeLoadedModel>;
  /** What `pull` (and `create` from a missing base) can download, same keys as `models`. */
  registry: Map<string, FakeRegistryModel>;
  /** Blob store: digest → bytes present (a cancelled pull leaves a partial blob that the next pull resumes). */
  blobs: Map<string, { size: number; completed: number }>;
  /** Where blob paths in generated Modelfiles point (the Linux service install). */
  blobDir: string;
  /** Delay before each pull progress line. */
  pullDelayMs: number;
  /** Progress lines per layer that is not already present. */
  pullChunksPerLayer: number;
  /** Accept connections, read requests, never answer. */
  hang: boolean;
  /** Streams write this many lines and then go silent without closing (idle-timeout tests). */
  stallAfterLines: number | null;
  /** Model key → error text emitted in the middle of its pull/create stream (after the first layer line). */
  midStreamError: Map<string, string>;
  cancelled: FakeCancel[];
  requests: FakeRequest[];
  /** Every TCP connection accepted, with the client's end (tells who dialled: the server or a tunnel's sshd). */
  connections: { remoteAddress: string; remotePort: number; at: number }[];
}

export interface FakeOllama {
  url: string;
  port: number;
  state: FakeOllamaState;
  /** Stop listening and drop every connection: clients now get ECONNREFUSED. */
  setDown(): Promise<void>;
  /** Listen again on the same port. */
  setUp(): Promise<void>;
  stop(): Promise<void>;
}

export interface FakeOllamaOptions {
  port?: number;
  host?: string;
  /** Start with no models, nothing loaded and an empty registry. */
  empty?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Model names: a port of types/model/name.go (ParseNameBare + isValidPart), independent of src/
// ---------------------------------------------------------------------------------------------------

interface ParsedName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

const MISSING = '!MISSING!';

function cutPromised(s: string, sep: string): [string, string, boolean] {
  const i = s.lastIndexOf(sep);
  if (i < 0) return [s, '', false];
  return [s.slice(0, i) || MISSING, s.slice(i + sep.length) || MISSING, true];
}

function isValidPart(kind: 'host' | 'namespace' | 'model' | 'tag', s: string): boolean {
  const max = kind === 'host' ? 350 : 80;
  if (s.length < 1 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    const alnum = /[A-Za-z0-9_]/.test(c);
    if (i === 0) {
      if (!alnum) return false;
      continue;
    }
    if (c === '-' || alnum) continue;
    if (c === '.' && kind !== 'namespace') continue;
    if (c === ':' && kind === 'host') continue;
    return false;
  }
  return true;
}

/** Parses and fills defaults; undefined when Ollama would say "invalid model name". */
export function parseModelName(input: string): ParsedName | undefined {
  let s = input;
  // A digest suffix is accepted and ignored, like Ollama's model reference parser.
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    if (!/^sha256[:-][0-9a-f]{64}$/.test(s.slice(at + 1))) return undefined;
    s = s.slice(0, at);
  }
  const n = { host: '', namespace: '', model: '', tag: '' };
  if (s.lastIndexOf(':') > s.lastIndexOf('/')) [s, n.tag] = cutPromised(s, ':');
  let promised: boolean;
  [s, n.model, promised] = cutPromised(s, '/');
  if (!promised) n.model = s;
  else {
    [s, n.namespace, promised] = cutPromised(s, '/');
    if (!promised) n.namespace = s;
    else n.host = s.includes('://') ? (s.split('://')[1] as string) : s;
  }
  const filled: ParsedName = {
    host: n.host || 'registry.ollama.ai',
    namespace: n.namespace || 'library',
    model: n.model,
    tag: n.tag || 'latest',
  };
  if (
    !isValidPart('host', filled.host) ||
    !isValidPart('namespace', filled.namespace) ||
    !isValidPart('model', filled.model) ||
    !isValidPart('tag', filled.tag)
  ) {
    return undefined;
  }
  return filled;
}

/** Case-insensitive identity of a model (Ollama compares names with EqualFold). */
export function modelKey(name: string): string | undefined {
  const p = parseModelName(name);
  return p ? `${p.host}/${p.namespace}/${p.model}:${p.tag}`.toLowerCase() : undefined;
}

/** Ollama's "shortest display" form: `llama3.2:latest`, `myns/m:tag`, `hf.co/u/r:Q4_K_M`. */
export function displayName(name: string): string {
  const p = parseModelName(name);
  if (!p) throw new Error(`invalid model name ${name}`);
  if (p.host.toLowerCase() !== 'registry.ollama.ai') return `${p.host}/${p.namespace}/${p.model}:${p.tag}`;
  if (p.namespace.toLowerCase() !== 'library') return `${p.namespace}/${p.model}:${p.tag}`;
  return `${p.model}:${p.tag}`;
}

// ---------------------------------------------------------------------------------------------------
// Go-isms
// ---------------------------------------------------------------------------------------------------

let nanoCounter = 0;

/**
 * Go's time.RFC3339Nano, trailing zeros trimmed: local time with its offset
 * (`2025-05-10T08:06:48.639712648-07:00`, what tags/ps/show use) or UTC with `Z` (generate's created_at).
 */
export function goTime(date: Date = new Date(), utc = false): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  nanoCounter = (nanoCounter + 104729) % 1_000_000;
  const [y, mo, d, h, mi, s, ms] = utc
    ? [
        date.getUTCFullYear(),
        date.getUTCMonth(),
        date.getUTCDate(),
        date.getUTCHours(),
        date.getUTCMinutes(),
        date.getUTCSeconds(),
        date.getUTCMilliseconds(),
      ]
    : [date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds()];
  const frac = `${pad(ms, 3)}${pad(nanoCounter, 6)}`.replace(/0+$/, '');
  const offsetMin = utc ? 0 : -date.getTimezoneOffset();
  const zone =
    offsetMin === 0 ? 'Z' : `${offsetMin > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return `${y}-${pad(mo + 1)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac ? `.${frac}` : ''}${zone}`;
}

/** encoding/json escapes <, >, & (and U+2028/9) inside strings. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // number, string
}

/** What Go's json.Decoder says about text that is not JSON. */
function goDecodeError(text: string): string {
  const trimmed = text.trimStart();
  const first = trimmed[0] ?? '';
  if (!/[{["\-0-9tfn]/.test(first)) return `invalid character '${first}' looking for beginning of value`;
  try {
    JSON.parse(text);
    return 'unexpected EOF';
  } catch (err) {
    const msg = (err as Error).message;
    if (/end of JSON|Unterminated|Unexpected end/i.test(msg)) return 'unexpected EOF';
    const pos = /position (\d+)/.exec(msg);
    const ch = pos ? text[Number(pos[1])] : undefined;
    return ch ? `invalid character '${ch}' looking for beginning of value` : 'unexpected EOF';
  }
}

/** Go's %v for a parameter value, and `PARAMETER` quoting (parser.go `quote`). */
function goQuoteArg(s: string): string {
  if (s.includes('\n') || s.startsWith(' ') || s.endsWith(' ')) return s.includes('"') ? `"""${s}"""` : `"${s}"`;
  return s;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function fakeDigest(seed: string): string {
  return `sha256:${sha256Hex(seed)}`;
}

// ---------------------------------------------------------------------------------------------------
// Seed data
// ---------------------------------------------------------------------------------------------------

const FIXTURES = fileURLToPath(new URL('../fixtures/ollama/', import.meta.url));

function fixture<T>(file: string): T {
  return JSON.parse(readFileSync(FIXTURES + file, 'utf8')) as T;
}

/** Template and stop words of `ollama show --modelfile llama3.2` (docs/modelfile.md). */
export const LLAMA32_TEMPLATE =
  '{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}' +
  '{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}' +
  '<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>';
export const LLAMA32_STOPS = ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|reserved_special_token'];

/** The user's scenario model: a multi-line SYSTEM (with a `"`, so show prints it in """) and temperature 0.7. */
export const REQUIREMENTS_AGENT_SYSTEM =
  'You are the requirements agent for the ccpm project.\n' +
  'Turn each request into numbered, testable requirements with acceptance criteria.\n' +
  'When something is ambiguous, ask one clarifying question; answer "unknown" rather than inventing constraints.';

function layer(kind: FakeLayerKind, digest: string, size: number): FakeLayer {
  return { kind, digest, size };
}

/** Layers for a model whose total size is known: the model layer gets what the small layers leave. */
function layersFor(seed: string, total: number, small: [FakeLayerKind, number][]): FakeLayer[] {
  const rest = small.reduce((a, [, s]) => a + s, 0);
  return [
    layer('model', fakeDigest(`${seed}/model`), total - rest),
    ...small.map(([kind, size], i) => layer(kind, fakeDigest(`${seed}/${kind}/${i}`), size)),
  ];
}

interface TagsEntry {
  name: string;
  modified_at: string;
  size: number;
  digest: string;
  details: FakeDetails;
  capabilities?: string[];
  remote_model?: string;
  remote_host?: string;
}

function seedState(state: FakeOllamaState): void {
  const docs = fixture<{ models: TagsEntry[] }>('tags_docs_example.json').models;
  const real2025 = fixture<{ models: TagsEntry[] }>('tags_real_entry_2025-06.json').models;
  const real2026 = fixture<{ models: TagsEntry[] }>('tags_real_entries_2026_cloud_and_safetensors.json').models;
  const byName = new Map([...docs, ...real2025, ...real2026].map((m) => [m.name, m]));
  const entry = (name: string) => byName.get(name) as TagsEntry;

  // llama3.2: digests of the template/license/params layers are the real ones from the create docs
  // example; sizes are chosen to add up to the documented 2019393189 bytes.
  const llamaLayers = [
    layer('model', 'sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff', 2019377376),
    layer('template', 'sha256:966de95ca8a62200913e3f8bfbf84c8494536f1b94b49166851e76644e966396', 1429),
    layer('license', 'sha256:fcc5a6bec9daf9b561a68827b67ab6088e1dba9d1fa2a50d7bbcc8384e0a265d', 7711),
    layer('license', 'sha256:a70ff7e570d97baaf4e62ac6e6ad9975e04caa6d900d3742d37698494479e0cd', 6016),
    layer('params', 'sha256:56bb8bd477a519ffa694fc449c2413c6f0e1d3b1c88fa7e3c9d88d3ae49d4dcb', 96),
    layer('config', 'sha256:34bb5ab01051a11372a91f95f3fbbc51173eed8e7f13ec395b9ae9b8bd0e242b', 561),
  ];
  // The dimensions are llama3.2 3B's real GGUF metadata (test/fixtures/ollama/model_info, see PROVENANCE.md).
  const llamaInfo = {
    ...fixture<Record<string, unknown>>('model_info/llama3.2-3b_ollama-issue7673.json'),
    'general.parameter_count': 3212749888,
  };
  const llamaLicense = [
    'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024',
    'Llama 3.2 Acceptable Use Policy',
  ];
  const llama = entry('llama3.2:latest');
  addModel(state, {
    ...llama,
    layers: llamaLayers,
    template: LLAMA32_TEMPLATE,
    parameters: { stop: [...LLAMA32_STOPS] },
    license: llamaLicense,
    capabilities: ['completion', 'tools'],
    model_info: llamaInfo,
  });

  const deepseek = entry('deepseek-r1:latest');
  addModel(state, {
    ...deepseek,
    layers: layersFor('deepseek-r1:latest', deepseek.size, [
      ['license', 1065],
      ['template', 387],
      ['params', 148],
      ['config', 487],
    ]),
    template:
      '{{- if .System }}{{ .System }}{{ end }}\n{{- range $i, $_ := .Messages }}<｜{{ .Role }}｜>{{ .Content }}{{ end }}<｜Assistant｜>',
    parameters: { stop: ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'] },
    license: ['MIT License\n\nCopyright (c) 2023 DeepSeek'],
    capabilities: ['completion', 'thinking'],
    // Dimensions of DeepSeek-R1-Distill-Qwen-7B as its published config gives them (28 layers, GQA 28/4).
    model_info: {
      'general.architecture': 'qwen2',
      'general.parameter_count': 7615616512,
      'qwen2.context_length': 131072,
      'qwen2.block_count': 28,
      'qwen2.embedding_length': 3584,
      'qwen2.attention.head_count': 28,
      'qwen2.attention.head_count_kv': 4,
      'qwen2.vocab_size': 152064,
    },
  });

  const codellama = entry('codellama:latest');
  addModel(state, {
    ...codellama,
    layers: layersFor('codellama:latest', codellama.size, [
      ['license', 4789],
      ['template', 59],
      ['params', 120],
      ['config', 455],
    ]),
    template: '[INST] <<SYS>>{{ .System }}<</SYS>>\n\n{{ .Prompt }} [/INST]\n',
    parameters: { rope_frequency_base: 1000000, stop: ['[INST]', '[/INST]', '<<SYS>>', '<</SYS>>'] },
    model_info: { 'general.architecture': 'llama', 'llama.context_length': 16384 },
  });

  const mlx = entry('qwen3.8:27b-mlx');
  addModel(state, {
    ...mlx,
    layers: layersFor('qwen3.8:27b-mlx', mlx.size, [['config', 1734]]),
    renderer: 'qwen3.8',
    parser: 'qwen3.8',
    parameters: { temperature: 0.6, top_k: 20, top_p: 0.95 },
  });

  const cloud = entry('glm-5.3:cloud');
  addModel(state, { ...cloud, layers: [layer('config', fakeDigest('glm-5.3:cloud/config'), cloud.size)] });

  // The scenario model, created (like `ollama create`) from llama3.2 with a system prompt and temperature.
  const agentLayers = [
    ...llamaLayers.filter((l) => l.kind !== 'params' && l.kind !== 'config'),
    layer('system', fakeDigest('requirements-agent/system'), Buffer.byteLength(REQUIREMENTS_AGENT_SYSTEM)),
    layer('params', fakeDigest('requirements-agent/params'), 148),
    layer('config', fakeDigest('requirements-agent/config'), 561),
  ];
  addModel(state, {
    name: 'requirements-agent:latest',
    modified_at: '2026-09-02T10:14:03.512887113+02:00',
    digest: sha256Hex('requirements-agent:latest/manifest'),
    size: agentLayers.reduce((a, l) => a + l.size, 0),
    details: { ...llama.details },
    layers: agentLayers,
    template: LLAMA32_TEMPLATE,
    system: REQUIREMENTS_AGENT_SYSTEM,
    parameters: { stop: [...LLAMA32_STOPS], temperature: 0.7 },
    license: llamaLicense,
    capabilities: ['completion', 'tools'],
    model_info: llamaInfo,
  });

  const now = Date.now();
  const llamaModel = state.models.get(modelKey('llama3.2:latest') as string) as FakeModel;
  state.loaded.set(modelKey('llama3.2:latest') as string, {
    model: llamaModel,
    expires_at: goTime(new Date(now + 4 * 60_000)),
    size: 3_321_450_496,
    size_vram: 3_321_450_496,
    context_length: 4096,
  });

  // Registry: what `pull` can fetch. gemma:2b uses the layer digests Ollama's registry serves for it.
  const reg = (name: string, r: FakeRegistryModel) => state.registry.set(modelKey(name) as string, r);
  reg('gemma:2b', {
    layers: [
      layer('model', 'sha256:c1864a5eb19305c40519da12cc543519e48a0697ecd30e15d5ac228644957d12', 1678447520),
      layer('license', 'sha256:097a36493f718248845233af1d3fefe7a303f864fae13bc31a3a9704229378ca', 8433),
      layer('template', 'sha256:109037bec39c0becc8221222ae23557559bc594290945a2c4221ab4f303b8871', 136),
      layer('params', 'sha256:22a838ceb7fb22755a3b0ae9b4eadde629d19be1f651f73efb8c6b4e2cd0eea0', 84),
      layer('config', 'sha256:887433b89a901c156f7e6944442f3c9e57f3c55d6ed52042cbb7303aea994290', 483),
    ],
    details: { parent_model: '', format: 'gguf', family: 'gemma', families: ['gemma'], parameter_size: '3B', quantization_level: 'Q4_0' },
    template:
      '<start_of_turn>user\n{{ if .System }}{{ .System }} {{ end }}{{ .Prompt }}<end_of_turn>\n<start_of_turn>model\n{{ .Response }}<end_of_turn>\n',
    parameters: { repeat_penalty: 1, stop: ['<start_of_turn>', '<end_of_turn>'] },
    license: ['Gemma Terms of Use'],
    capabilities: ['completion'],
    model_info: { 'general.architecture': 'gemma', 'gemma.context_length': 8192 },
  });
  reg('llama3.2:latest', {
    layers: llamaLayers,
    details: { ...llama.details },
    template: LLAMA32_TEMPLATE,
    parameters: { stop: [...LLAMA32_STOPS] },
    license: llamaLicense,
    capabilities: ['completion', 'tools'],
    model_info: llamaInfo,
  });
  reg('qwen2.5:0.5b', {
    layers: layersFor('qwen2.5:0.5b', 397821319, [
      ['template', 1482],
      ['system', 68],
      ['license', 11343],
      ['config', 488],
    ]),
    details: {
      parent_model: '',
      format: 'gguf',
      family: 'qwen2',
      families: ['qwen2'],
      parameter_size: '494.03M',
      quantization_level: 'Q4_K_M',
    },
    system: 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.',
    capabilities: ['completion', 'tools'],
  });
  reg('tinyllama:latest', {
    layers: layersFor('tinyllama:latest', 637700138, [
      ['template', 98],
      ['system', 31],
      ['params', 107],
      ['config', 483],
    ]),
    details: { parent_model: '', format: 'gguf', family: 'llama', families: null, parameter_size: '1B', quantization_level: 'Q4_0' },
    capabilities: ['completion'],
  });
  reg('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', {
    layers: layersFor('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', 807696143, [
      ['template', 1429],
      ['params', 126],
      ['config', 561],
    ]),
    details: {
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '1.24B',
      quantization_level: 'Q4_K_M',
    },
    template: LLAMA32_TEMPLATE,
    parameters: { stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] },
    capabilities: ['completion', 'tools'],
  });
}

/** Adds (or replaces) a local model and registers its layers as complete blobs. */
export function addModel(state: FakeOllamaState, model: FakeModel): FakeModel {
  const key = modelKey(model.name);
  if (!key) throw new Error(`fake-ollama: invalid seed model name ${model.name}`);
  for (const l of model.layers) state.blobs.set(l.digest, { size: l.size, completed: l.size });
  state.models.set(key, model);
  return model;
}

export function newState(): FakeOllamaState {
  return {
    version: '0.12.6',
    models: new Map(),
    loaded: new Map(),
    registry: new Map(),
    blobs: new Map(),
    blobDir: '/usr/share/ollama/.ollama/models/blobs',
    pullDelayMs: 0,
    pullChunksPerLayer: 4,
    hang: false,
    stallAfterLines: null,
    midStreamError: new Map(),
    cancelled: [],
    requests: [],
    connections: [],
  };
}

// ---------------------------------------------------------------------------------------------------
// Views of a model
// ---------------------------------------------------------------------------------------------------

function listEntry(m: FakeModel): Record<string, unknown> {
  const e: Record<string, unknown> = { name: m.name, model: m.name };
  if (m.remote_model) e.remote_model = m.remote_model;
  if (m.remote_host) e.remote_host = m.remote_host;
  Object.assign(e, { modified_at: m.modified_at, size: m.size, digest: m.digest, details: m.details });
  if (m.capabilities) e.capabilities = m.capabilities;
  return e;
}

function blobPath(state: FakeOllamaState, digest: string): string {
  return `${state.blobDir}/${digest.replace(':', '-')}`;
}

/** routes.go: `%-30s %#v` per parameter, list values one line each. */
export function parametersText(params: Record<string, FakeParamValue> | undefined): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(params ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      lines.push(`${k.padEnd(30)} ${typeof one === 'string' ? JSON.stringify(one) : String(one)}`);
    }
  }
  return lines.join('\n');
}

/** The `modelfile` of `show`, the way current Ollama writes it (Model.String + the three comment lines). */
export function modelfileText(state: FakeOllamaState, m: FakeModel): string {
  const out = [
    '# Modelfile generated by "ollama show"',
    '# To build a new Modelfile based on this, replace FROM with:',
    `# FROM ${m.name}`,
    '',
  ];
  for (const l of m.layers.filter((x) => x.kind === 'model')) out.push(`FROM ${blobPath(state, l.digest)}`);
  for (const l of m.layers.filter((x) => x.kind === 'projector')) out.push(`FROM ${blobPath(state, l.digest)}`);
  for (const l of m.layers.filter((x) => x.kind === 'adapter')) out.push(`ADAPTER ${blobPath(state, l.digest)}`);
  if (m.template !== undefined) out.push(`TEMPLATE ${goQuoteArg(m.template)}`);
  if (m.system) out.push(`SYSTEM ${goQuoteArg(m.system)}`);
  if (m.renderer) out.push(`RENDERER ${goQuoteArg(m.renderer)}`);
  if (m.parser) out.push(`PARSER ${goQuoteArg(m.parser)}`);
  for (const [k, v] of Object.entries(m.parameters ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) out.push(`PARAMETER ${k} ${goQuoteArg(String(one))}`);
  }
  for (const lic of m.license ?? []) out.push(`LICENSE ${goQuoteArg(lic)}`);
  for (const msg of m.messages ?? []) out.push(`MESSAGE ${msg.role} ${goQuoteArg(msg.content)}`);
  return `${out.join('\n')}\n`;
}

function showBody(state: FakeOllamaState, m: FakeModel): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (m.license?.length) b.license = m.license.join('\n');
  b.modelfile = m.modelfile ?? modelfileText(state, m);
  const params = parametersText(m.parameters);
  if (params) b.parameters = params;
  if (m.template !== undefined) b.template = m.template;
  if (m.system) b.system = m.system;
  if (m.renderer) b.renderer = m.renderer;
  if (m.parser) b.parser = m.parser;
  b.details = m.details;
  if (m.messages?.length) b.messages = m.messages;
  if (m.remote_model) b.remote_model = m.remote_model;
  if (m.remote_host) b.remote_host = m.remote_host;
  b.model_info = m.model_info ?? {};
  b.capabilities = m.capabilities ?? ['completion'];
  b.modified_at = m.modified_at;
  return b;
}

// ---------------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------------

type Handler = (ctx: Ctx) => Promise<void> | void;

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  text: string;
  state: FakeOllamaState;
  /** True once the client has gone away before we finished. */
  gone: () => boolean;
}

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: handleRoot, HEAD: handleRoot },
  '/api/version': { GET: handleVersion, HEAD: handleVersion },
  '/api/tags': { GET: handleTags, HEAD: handleTags },
  '/api/ps': { GET: handlePs },
  '/api/pull': { POST: handlePull },
  '/api/show': { POST: handleShow },
  '/api/copy': { POST: handleCopy },
  '/api/delete': { DELETE: handleDelete },
  '/api/create': { POST: handleCreate },
  '/api/generate': { POST: handleGenerate },
};

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const state = newState();
  if (!options.empty) seedState(state);
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    void dispatch(state, req, res);
  });
  server.on('connection', (s) => {
    state.connections.push({ remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, at: Date.now() });
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  const port = await listen(options.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    port,
    state,
    setDown: close,
    setUp: async () => {
      await listen(port);
    },
    stop: close,
  };
}

async function dispatch(state: FakeOllamaState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const path = new URL(req.url ?? '/', 'http://fake').pathname;
  let body: unknown;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  state.requests.push({ method: req.method ?? 'GET', path, headers: { ...req.headers }, body, at: Date.now() });

  // Hang: the connection stays open and unanswered until the client or stop() closes it.
  if (state.hang) return;

  let closedEarly = false;
  res.on('close', () => {
    if (!res.writableEnded) closedEarly = true;
  });
  const ctx: Ctx = { req, res, text, state, gone: () => closedEarly || res.destroyed };

  const blob = /^\/api\/blobs\/(sha256[:-][0-9a-f]{64})$/.exec(path);
  if (blob) return handleBlob(ctx, (blob[1] as string).replace('-', ':'));

  const route = ROUTES[path];
  if (!route) return sendText(res, 404, '404 page not found');
  const handler = route[req.method ?? 'GET'];
  if (!handler) {
    res.setHeader('Allow', Object.keys(route).join(', '));
    return sendText(res, 405, '405 method not allowed');
  }
  try {
    await handler(ctx);
  } catch (err) {
    if (!res.headersSent) sendJson(res, 500, { error: `fake-ollama: ${(err as Error).message}` });
    else res.destroy();
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = goJson(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A handler that writes nothing: Go answers 200 with an empty body and no content type. */
function sendEmpty(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

/**
 * gin's ShouldBindJSON: empty body → `missing request body`; bad JSON → Go's decoder text; a field of the
 * wrong type → `json: cannot unmarshal …`; unknown fields ignored. Returns undefined after answering 400.
 */
function decode(ctx: Ctx, struct: string, fields: { strings?: string[]; bools?: string[] }): Record<string, unknown> | undefined {
  if (ctx.text.trim() === '') {
    sendJson(ctx.res, 400, { error: 'missing request body' });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.text);
  } catch {
    sendJson(ctx.res, 400, { error: goDecodeError(ctx.text) });
    return undefined;
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    sendJson(ctx.res, 400, { error: `json: cannot unmarshal ${jsonKind(parsed)} into Go value of type api.${struct}` });
    return undefined;
  }
  const obj = parsed as Record<string, unknown>;
  for (const [list, type] of [
    [fields.strings ?? [], 'string'],
    [fields.bools ?? [], 'bool'],
  ] as const) {
    for (const f of list) {
      const v = obj[f];
      if (v === undefined || v === null || jsonKind(v) === type) continue;
      sendJson(ctx.res, 400, { error: `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${f} of type ${type}` });
      return undefined;
    }
  }
  return obj;
}

/** `cmp.Or(r.Model, r.Name)`. */
function nameOf(body: Record<string, unknown>): string {
  return (typeof body.model === 'string' && body.model) || (typeof body.name === 'string' && body.name) || '';
}

function findModel(state: FakeOllamaState, name: string): FakeModel | undefined {
  const key = modelKey(name);
  return key ? state.models.get(key) : undefined;
}

// --- simple reads -----------------------------------------------------------------------------------

function handleRoot(ctx: Ctx): void {
  sendText(ctx.res, 200, 'Ollama is running');
}

function handleVersion(ctx: Ctx): void {
  sendJson(ctx.res, 200, { version: ctx.state.version });
}

function handleTags(ctx: Ctx): void {
  const models = [...ctx.state.models.values()].sort((a, b) => Date.parse(b.modified_at) - Date.parse(a.modified_at)).map(listEntry);
  sendJson(ctx.res, 200, { models });
}

function handlePs(ctx: Ctx): void {
  const models = [...ctx.state.loaded.values()]
    .sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at))
    .map((l) => ({
      name: l.model.name,
      model: l.model.name,
      size: l.size,
      digest: l.model.digest,
      details: l.model.details,
      expires_at: l.expires_at,
      size_vram: l.size_vram,
      context_length: l.context_length,
    }));
  sendJson(ctx.res, 200, { models });
}

function handleShow(ctx: Ctx): void {
  const body = decode(ctx, 'ShowRequest', { strings: ['model', 'name', 'system', 'template'], bools: ['verbose'] });
  if (!body) return;
  const name = nameOf(body);
  if (name === '') return sendJson(ctx.res, 400, { error: 'model is required' });
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: 'invalid model name' });
  const m = findModel(ctx.state, name);
  if (!m) return sendJson(ctx.res, 404, { error: `model '${name}' not found` });
  sendJson(ctx.res, 200, showBody(ctx.state, m));
}

// --- copy / delete ----------------------------------------------------------------------------------

function handleCopy(ctx: Ctx): void {
  const body = decode(ctx, 'CopyRequest', { strings: ['source', 'destination'] });
  if (!body) return;
  const source = typeof body.source === 'string' ? body.source : '';
  const destination = typeof body.destination === 'string' ? body.destination : '';
  if (!parseModelName(source)) return sendJson(ctx.res, 400, { error: `source ${JSON.stringify(source)} is invalid` });
  if (!parseModelName(destination)) {
    return sendJson(ctx.res, 400, { error: `destination ${JSON.stringify(destination)} is invalid` });
  }
  const src = findModel(ctx.state, source);
  if (!src) return sendJson(ctx.res, 404, { error: `model ${JSON.stringify(source)} not found` });
  addModel(ctx.state, { ...structuredClone(src), name: displayName(destination), modified_at: goTime() });
  sendEmpty(ctx.res);
}

function handleDelete(ctx: Ctx): void {
  const body = decode(ctx, 'DeleteRequest', { strings: ['model', 'name'] });
  if (!body) return;
  const name = nameOf(body);
  if (name === '') return sendJson(ctx.res, 400, { error: 'model is required' });
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: `name ${JSON.stringify(name)} is invalid` });
  const key = modelKey(name) as string;
  const m = ctx.state.models.get(key);
  if (!m) return sendJson(ctx.res, 404, { error: `model '${name}' not found` });
  ctx.state.models.delete(key);
  // Blobs still referenced by another model survive, like RemoveLayers.
  const used = new Set([...ctx.state.models.values()].flatMap((x) => x.layers.map((l) => l.digest)));
  for (const l of m.layers) if (!used.has(l.digest)) ctx.state.blobs.delete(l.digest);
  sendEmpty(ctx.res);
}

// --- blobs --------------------------------------------------------------------------------------------

function handleBlob(ctx: Ctx, digest: string): void {
  const { req, res, state } = ctx;
  if (req.method === 'HEAD') {
    const b = state.blobs.get(digest);
    res.writeHead(b && b.completed >= b.size ? 200 : 404, { 'Content-Length': 0 });
    return void res.end();
  }
  if (req.method === 'POST') {
    const actual = `sha256:${createHash('sha256').update(ctx.text).digest('hex')}`;
    if (actual !== digest) return sendJson(res, 400, { error: 'digest mismatch' });
    const size = Buffer.byteLength(ctx.text);
    state.blobs.set(digest, { size, completed: size });
    res.writeHead(201, { 'Content-Length': 0 });
    return void res.end();
  }
  res.setHeader('Allow', 'HEAD, POST');
  sendText(res, 405, '405 method not allowed');
}

// --- streams ------------------------------------------------------------------------------------------

type StreamItem = Record<string, unknown> | { error: string; status?: number };

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/**
 * streamResponse / waitForStream of routes.go: lines go out as NDJSON; an error before anything was written
 * becomes a JSON answer with its status (default 500), after that a final `{"error":…}` line under 200.
 * With `stream:false` the last progress object (or the error with its status) is the single answer.
 */
async function runStream(
  ctx: Ctx,
  stream: boolean,
  kind: FakeCancel['kind'],
  model: string,
  items: AsyncGenerator<StreamItem>,
): Promise<void> {
  const { res, state } = ctx;
  let written = 0;
  let last: StreamItem | undefined;
  for await (const item of items) {
    if (ctx.gone()) {
      state.cancelled.push({ kind, model, linesSent: written, at: Date.now() });
      return;
    }
    if ('error' in item && typeof item.error === 'string') {
      const status = typeof item.status === 'number' ? item.status : 500;
      if (!stream || written === 0) return sendJson(res, status, { error: item.error });
      res.end(`${goJson({ error: item.error })}\n`);
      return;
    }
    last = item;
    if (!stream) continue;
    if (written === 0) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.write(`${goJson(item)}\n`);
    written++;
    if (state.stallAfterLines !== null && written >= state.stallAfterLines) {
      // Silent but open, like a server stuck on a slow disk; only the client's timeout ends this.
      await new Promise<void>((resolve) => res.once('close', () => resolve()));
      state.cancelled.push({ kind, model, linesSent: written, at: Date.now() });
      return;
    }
  }
  if (ctx.gone()) {
    state.cancelled.push({ kind, model, linesSent: written, at: Date.now() });
    return;
  }
  if (!stream) return sendJson(res, 200, last ?? { status: 'success' });
  res.end();
}

/** The download part of a pull, shared with create-from-a-missing-base. Returns false after an error item. */
async function* pullLines(ctx: Ctx, name: string, withSuccess: boolean): AsyncGenerator<StreamItem> {
  const { state } = ctx;
  const key = modelKey(name) as string;
  yield { status: 'pulling manifest' };
  await sleep(state.pullDelayMs);
  const reg = state.registry.get(key);
  if (!reg) {
    yield { error: 'pull model manifest: file does not exist' };
    return;
  }
  const injected = state.midStreamError.get(key);
  for (const [index, l] of reg.layers.entries()) {
    const hex12 = l.digest.slice(7, 19);
    const status = `pulling ${hex12}`;
    const blob = state.blobs.get(l.digest) ?? { size: l.size, completed: 0 };
    state.blobs.set(l.digest, blob);
    if (blob.completed >= l.size) {
      yield { status, digest: l.digest, total: l.size, completed: l.size };
    } else {
      // `completed` is omitempty: absent while 0.
      yield blob.completed > 0
        ? { status, digest: l.digest, total: l.size, completed: blob.completed }
        : { status, digest: l.digest, total: l.size };
      const step = Math.max(1, Math.ceil((l.size - blob.completed) / Math.max(1, state.pullChunksPerLayer)));
      while (blob.completed < l.size) {
        await sleep(state.pullDelayMs);
        if (ctx.gone()) return;
        blob.completed = Math.min(l.size, blob.completed + step);
        yield { status, digest: l.digest, total: l.size, completed: blob.completed };
      }
    }
    if (index === 0 && injected !== undefined) {
      yield { error: injected };
      return;
    }
  }
  yield { status: 'verifying sha256 digest' };
  yield { status: 'writing manifest' };
  const existing = state.models.get(key);
  if (existing && existing.layers.some((l) => !reg.layers.some((r) => r.digest === l.digest))) {
    yield { status: 'removing unused layers' };
  }
  addModel(state, {
    name: displayName(name),
    modified_at: goTime(),
    digest: sha256Hex(`${key}/${reg.layers.map((l) => l.digest).join(',')}`),
    size: reg.layers.reduce((a, l) => a + l.size, 0),
    details: { ...reg.details },
    layers: reg.layers.map((l) => ({ ...l })),
    template: reg.template,
    system: reg.system,
    parameters: reg.parameters ? structuredClone(reg.parameters) : undefined,
    license: reg.license ? [...reg.license] : undefined,
    capabilities: reg.capabilities,
    model_info: reg.model_info,
  });
  if (withSuccess) yield { status: 'success' };
}

async function handlePull(ctx: Ctx): Promise<void> {
  const body = decode(ctx, 'PullRequest', { strings: ['model', 'name', 'username', 'password'], bools: ['stream', 'insecure'] });
  if (!body) return;
  const name = nameOf(body);
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: 'invalid model name' });
  await runStream(ctx, body.stream !== false, 'pull', name, pullLines(ctx, name, true));
}

const DIGEST_RE = /^sha256[:-][0-9a-f]{64}$/;

function validateFileMap(ctx: Ctx, map: unknown, field: string): Record<string, string> | undefined | false {
  if (map === undefined || map === null) return undefined;
  if (typeof map !== 'object' || Array.isArray(map)) {
    sendJson(ctx.res, 400, {
      error: `json: cannot unmarshal ${jsonKind(map)} into Go struct field CreateRequest.${field} of type map[string]string`,
    });
    return false;
  }
  for (const [file, digest] of Object.entries(map as Record<string, unknown>)) {
    if (file === '.' || file.startsWith('/') || file.split('/').includes('..') || /[\\:]/.test(file)) {
      sendJson(ctx.res, 400, { error: `file path must be relative: ${file}` });
      return false;
    }
    if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
      sendJson(ctx.res, 400, { error: 'invalid digest format' });
      return false;
    }
  }
  return map as Record<string, string>;
}

async function handleCreate(ctx: Ctx): Promise<void> {
  const { state } = ctx;
  const body = decode(ctx, 'CreateRequest', {
    strings: ['model', 'name', 'from', 'template', 'system', 'quantize', 'quantization', 'renderer', 'parser', 'requires'],
    bools: ['stream'],
  });
  if (!body) return;
  const files = validateFileMap(ctx, body.files, 'files');
  if (files === false) return;
  const adapters = validateFileMap(ctx, body.adapters, 'adapters');
  if (adapters === false) return;
  const license = body.license;
  if (
    license !== undefined &&
    license !== null &&
    typeof license !== 'string' &&
    !(Array.isArray(license) && license.every((l) => typeof l === 'string'))
  ) {
    return sendJson(ctx.res, 400, { error: 'license must be a string or a list of strings' });
  }
  const params = body.parameters;
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    return sendJson(ctx.res, 400, {
      error: `json: cannot unmarshal ${jsonKind(params)} into Go struct field CreateRequest.parameters of type map[string]interface {}`,
    });
  }
  const name = nameOf(body);
  if (!parseModelName(name)) return sendJson(ctx.res, 400, { error: 'invalid model name' });
  // Blobs named in `files` / `adapters` must already be on the server (the CLI uploads them first).
  for (const [file, digest] of [...Object.entries(files ?? {}), ...Object.entries(adapters ?? {})]) {
    const d = digest.replace('-', ':');
    const b = state.blobs.get(d);
    if (!b || b.completed < b.size) {
      return sendJson(ctx.res, 400, {
        error: `blob not found for ${file} (digest ${digest}): open ${blobPath(state, d)}: no such file or directory`,
      });
    }
  }
  const from = typeof body.from === 'string' ? body.from : '';
  if (from === '' && !files) return sendJson(ctx.res, 400, { error: "neither 'from' or 'files' was specified" });

  await runStream(ctx, body.stream !== false, 'create', name, createLines(ctx, body, name, from, files ?? {}, adapters ?? {}));
}

async function* createLines(
  ctx: Ctx,
  body: Record<string, unknown>,
  name: string,
  from: string,
  files: Record<string, string>,
  adapters: Record<string, string>,
): AsyncGenerator<StreamItem> {
  const { state } = ctx;
  let base: FakeModel | undefined;
  let baseLayers: FakeLayer[];
  if (from !== '') {
    if (!parseModelName(from)) {
      yield { error: 'invalid model name', status: 400 };
      return;
    }
    base = findModel(state, from);
    if (!base) {
      // Ollama pulls a base it does not have; its progress lines appear in the create stream.
      let failed = false;
      for await (const item of pullLines(ctx, from, false)) {
        if ('error' in item) failed = true;
        yield item;
        if (failed || ctx.gone()) return;
      }
      base = findModel(state, from) as FakeModel;
    }
    yield { status: 'reading model metadata' };
    baseLayers = base.layers.filter((l) => l.kind === 'model' || l.kind === 'projector' || l.kind === 'adapter');
  } else {
    yield { status: 'parsing GGUF' };
    baseLayers = Object.values(files).map((d) => {
      const digest = d.replace('-', ':');
      return { digest, size: (state.blobs.get(digest) as { size: number }).size, kind: 'model' as const };
    });
    // The GGUF carries the architecture; reuse what a local model with that blob says about it.
    base = [...state.models.values()].find((m) => m.layers.some((l) => l.kind === 'model' && l.digest === baseLayers[0]?.digest));
  }
  for (const d of Object.values(adapters)) {
    const digest = d.replace('-', ':');
    baseLayers.push({ digest, size: (state.blobs.get(digest) as { size: number }).size, kind: 'adapter' });
  }

  const template = typeof body.template === 'string' && body.template !== '' ? body.template : base?.template;
  const system = typeof body.system === 'string' && body.system !== '' ? body.system : base?.system;
  // Parameters merge key by key over the base's; a list value replaces the base's list.
  const parameters: Record<string, FakeParamValue> = {
    ...(base?.parameters ? structuredClone(base.parameters) : {}),
    ...((body.parameters as Record<string, FakeParamValue> | undefined) ?? {}),
  };
  const license =
    body.license !== undefined && body.license !== null ? ([] as string[]).concat(body.license as string | string[]) : base?.license;
  const messages = Array.isArray(body.messages) ? (body.messages as { role: string; content: string }[]) : base?.messages;

  const newLayers: FakeLayer[] = [];
  const configLayer = (kind: FakeLayerKind, content: unknown) => {
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    const l = { kind, digest: `sha256:${sha256Hex(`${kind}\n${text}`)}`, size: Buffer.byteLength(text) };
    state.blobs.set(l.digest, { size: l.size, completed: l.size });
    return l;
  };
  if (typeof body.system === 'string' && body.system !== '') {
    yield { status: 'creating system layer' };
  }
  if (template !== undefined) newLayers.push(configLayer('template', template));
  if (system) newLayers.push(configLayer('system', system));
  if (Object.keys(parameters).length) newLayers.push(configLayer('params', parameters));
  for (const l of license ?? []) newLayers.push(configLayer('license', l));
  if (messages?.length) newLayers.push(configLayer('messages', messages));

  for (const l of baseLayers) yield { status: `using existing layer ${l.digest}` };
  for (const l of newLayers) {
    const reused = base?.layers.some((b) => b.digest === l.digest);
    yield { status: `${reused ? 'using existing' : 'creating new'} layer ${l.digest}` };
  }
  const injected = state.midStreamError.get(modelKey(name) as string);
  if (injected !== undefined) {
    yield { error: injected };
    return;
  }
  const details = base
    ? { ...base.details }
    : { parent_model: '', format: 'gguf', family: '', families: null, parameter_size: '', quantization_level: '' };
  const config = configLayer('config', { name, details, at: Date.now() });
  const layers = [...baseLayers, ...newLayers, config];
  yield { status: 'writing manifest' };
  if (ctx.gone()) return;
  addModel(state, {
    name: displayName(name),
    modified_at: goTime(),
    digest: sha256Hex(layers.map((l) => l.digest).join(',')),
    size: layers.reduce((a, l) => a + l.size, 0),
    details,
    layers,
    template,
    system,
    parameters: Object.keys(parameters).length ? parameters : undefined,
    license,
    messages,
    renderer: typeof body.renderer === 'string' && body.renderer ? body.renderer : base?.renderer,
    parser: typeof body.parser === 'string' && body.parser ? body.parser : base?.parser,
    capabilities: base?.capabilities,
    model_info: base?.model_info,
  });
  yield { status: 'success' };
}

// --- generate -----------------------------------------------------------------------------------------

/** keep_alive: seconds as a number, or a Go duration string ("0", "0s", "5m", "-1"). Undefined = invalid. */
function keepAliveMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v < 0 ? Number.POSITIVE_INFINITY : v * 1000;
  if (typeof v !== 'string') return undefined;
  if (v === '0') return 0;
  const re = /(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = '';
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed += m[0];
  }
  if (consumed !== v || consumed === '') return undefined;
  return total < 0 ? Number.POSITIVE_INFINITY : total;
}

async function handleGenerate(ctx: Ctx): Promise<void> {
  const { state, res } = ctx;
  const body = decode(ctx, 'GenerateRequest', { strings: ['model', 'prompt', 'system', 'template', 'suffix'], bools: ['stream', 'raw'] });
  if (!body) return;
  const name = typeof body.model === 'string' ? body.model : '';
  if (name === '') return sendJson(res, 400, { error: 'model is required' });
  if (!parseModelName(name)) return sendJson(res, 400, { error: 'invalid model name' });
  const key = modelKey(name) as string;
  const m = state.models.get(key);
  if (!m) return sendJson(res, 404, { error: `model '${name}' not found` });

  let keepMs = 5 * 60_000;
  if (body.keep_alive !== undefined && body.keep_alive !== null) {
    const parsed = keepAliveMs(body.keep_alive);
    if (parsed === undefined) {
      return sendJson(res, 400, {
        error:
          typeof body.keep_alive === 'string'
            ? `time: invalid duration ${JSON.stringify(body.keep_alive)}`
            : `Unsupported type: '${jsonKind(body.keep_alive)}'`,
      });
    }
    keepMs = parsed;
  }
  const prompt = typeof body.prompt === 'string' ? body.prompt : '';
  // generate stamps created_at in UTC (time.Now().UTC()), RFC 3339 with nanoseconds.
  const createdAt = goTime(new Date(), true);

  if (prompt === '' && body.keep_alive !== undefined && keepMs === 0) {
    state.loaded.delete(key);
    return sendJson(res, 200, { model: name, created_at: createdAt, response: '', done: true, done_reason: 'unload' });
  }
  const expires = keepMs === Number.POSITIVE_INFINITY ? new Date(Date.now() + 292 * 365.25 * 86_400_000) : new Date(Date.now() + keepMs);
  const loadedSize = Math.round(m.size * 1.6);
  state.loaded.set(key, { model: m, expires_at: goTime(expires), size: loadedSize, size_vram: loadedSize, context_length: 4096 });
  if (prompt === '') {
    return sendJson(res, 200, { model: name, created_at: createdAt, response: '', done: true, done_reason: 'load' });
  }
  const words = ['This ', 'is ', 'a ', 'fake ', 'answer.'];
  const final = {
    model: name,
    created_at: createdAt,
    response: '',
    done: true,
    done_reason: 'stop',
    total_duration: 1_234_567,
    load_duration: 12_345,
    prompt_eval_count: 8,
    eval_count: words.length,
  };
  if (body.stream === false) return sendJson(res, 200, { ...final, response: words.join('') });
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  for (const w of words) res.write(`${goJson({ model: name, created_at: createdAt, response: w, done: false })}\n`);
  res.end(`${goJson(final)}\n`);
}
