/** POST /api/generate: loads and unloads models (the state /api/ps lists) and streams a fixed answer. */
import { goJson, goTime, jsonKind } from './go-wire.js';
import { type Ctx, decode, sendJson } from './http.js';
import { modelKey, parseModelName } from './model-names.js';

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

export async function handleGenerate(ctx: Ctx): Promise<void> {
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
