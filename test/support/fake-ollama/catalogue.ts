/**
 * The model catalogue the fake starts with: local models, the loaded llama3.2 and the registry that pulls
 * download from, seeded from the captured fixtures (test/fixtures/ollama/) plus the scenario model
 * `requirements-agent:latest`; and the blob bookkeeping every model change goes through.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fakeDigest, goTime, sha256Hex } from './go-wire.js';
import { modelKey } from './model-names.js';
import type { FakeDetails, FakeLayer, FakeLayerKind, FakeModel, FakeOllamaState, FakeRegistryModel } from './types.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/ollama/', import.meta.url));

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

export function seedState(state: FakeOllamaState): void {
  const docs = fixture<{ models: TagsEntry[] }>('tags_docs_example.json').models;
  const real2025 = fixture<{ models: TagsEntry[] }>('tags_real_entry_2025-06.json').models;
  const real2026 = fixture<{ models: TagsEntry[] }>('tags_real_entries_2026_cloud_and_safetensors.json').models;
  const byName = new Map([...docs, ...real2025, ...real2026].map((m) => [m.name, m]));
  const entry = (name: string) => byName.get(name) as TagsEntry;
  // A tags entry with layers made up to its listed size: the model layer plus the given small layers.
  const tagged = (name: string, small: [FakeLayerKind, number][]) => {
    const e = entry(name);
    return { ...e, layers: layersFor(name, e.size, small) };
  };

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

  addModel(state, {
    ...tagged('deepseek-r1:latest', [
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

  addModel(state, {
    ...tagged('codellama:latest', [
      ['license', 4789],
      ['template', 59],
      ['params', 120],
      ['config', 455],
    ]),
    template: '[INST] <<SYS>>{{ .System }}<</SYS>>\n\n{{ .Prompt }} [/INST]\n',
    parameters: { rope_frequency_base: 1000000, stop: ['[INST]', '[/INST]', '<<SYS>>', '<</SYS>>'] },
    model_info: { 'general.architecture': 'llama', 'llama.context_length': 16384 },
  });

  addModel(state, {
    ...tagged('qwen3.8:27b-mlx', [['config', 1734]]),
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
