/** POST /api/create: request validation, then the create stream over the base model (pulled if missing). */
import { addModel } from './catalogue.js';
import { goTime, jsonKind, sha256Hex } from './go-wire.js';
import { type Ctx, decode, findModel, nameOf, sendJson } from './http.js';
import { displayName, modelKey, parseModelName } from './model-names.js';
import { blobPath } from './model-views.js';
import { pullLines, runStream, type StreamItem } from './streams.js';
import type { FakeLayer, FakeLayerKind, FakeModel, FakeParamValue } from './types.js';

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

export async function handleCreate(ctx: Ctx): Promise<void> {
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
