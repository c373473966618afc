/**
 * What ollama_show_model leaves out of a long Modelfile and ollama_create_model puts back: the LICENSE and
 * TEMPLATE values are replaced by one comment line naming the model they come from, so a small model can
 * edit and send back the rest, and the create takes those values from that model again.
 */
import { jsonBytes } from '../../common/result-budget.js';
import type { OllamaCreateRequest, OllamaShowResponse } from '../../infra/ollama/ollama-wire-types.js';
import type { OllamaShowModelResult } from './dto/ollama-models.dto.js';
import { parseModelfile, tokenizeModelfile, type ModelfileCommand } from './modelfile.js';

/** Instructions whose long values ollama_show_model may leave out of the Modelfile it returns. */
export type LeftOutInstruction = 'license' | 'template';

const LEFT_OUT_MARKER =
  /^# (LICENSE|TEMPLATE) of (\S+) left out here \(\d+ bytes\); ollama_create_model puts it back while this line stays$/gm;

/**
 * The Modelfile without its `instruction` values, replaced by one comment line that names the model they
 * come from: a small model can then edit and send back the rest, and ollama_create_model puts the values
 * back from that model (see leftOutMarkers). Returns the text unchanged (0 bytes) when there is nothing to
 * leave out or the text does not parse.
 */
export function leaveOut(text: string, instruction: LeftOutInstruction, model: string): { text: string; bytes: number } {
  let commands: ModelfileCommand[];
  try {
    commands = tokenizeModelfile(text);
  } catch {
    return { text, bytes: 0 };
  }
  const hits = commands.filter((c) => c.instruction === instruction);
  if (hits.length === 0) return { text, bytes: 0 };
  const bytes = hits.reduce((n, c) => n + Buffer.byteLength(c.value), 0);
  const dropped = new Set(hits.flatMap((c) => Array.from({ length: c.end - c.start }, (_, k) => c.start + k)));
  const marker = `# ${instruction.toUpperCase()} of ${model} left out here (${bytes} bytes); ollama_create_model puts it back while this line stays`;
  const out: string[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    if (i === hits[0]!.start) out.push(marker);
    if (!dropped.has(i)) out.push(line);
  });
  return { text: out.join('\n'), bytes };
}

/** The values a Modelfile says were left out (leaveOut's comment lines): which instruction, from which model. */
export function leftOutMarkers(text: string): Array<{ instruction: LeftOutInstruction; model: string }> {
  return [...text.matchAll(LEFT_OUT_MARKER)].map((m) => ({ instruction: m[1]!.toLowerCase() as LeftOutInstruction, model: m[2]! }));
}

/**
 * A show answer within `limit` bytes: the license texts leave the Modelfile first (no one edits them and
 * they run to 10+ KB), then the template; each is replaced by a comment line that makes
 * ollama_create_model take it from the shown model, so the edit flow loses nothing.
 */
export function fitShowResult(result: OllamaShowModelResult, limit: number, model: string): OllamaShowModelResult {
  const fullBytes = jsonBytes(result);
  if (fullBytes <= limit) return result;
  const left: string[] = [];
  const license = leaveOut(result.modelfile, 'license', model);
  if (license.bytes > 0) {
    result.modelfile = license.text;
    left.push(`LICENSE (${license.bytes} bytes)`);
  }
  if (jsonBytes(result) > limit) {
    const template = leaveOut(result.modelfile, 'template', model);
    if (template.bytes > 0) {
      result.modelfile = template.text;
      result.template = null;
      left.push(`TEMPLATE (${template.bytes} bytes)`);
    }
  }
  if (left.length === 0) return result;
  const them = left.length === 1 ? 'it' : 'them';
  result.note =
    `${left.join(' and ')} left out of this answer to keep it small. Keep the modelfile's "left out here" ` +
    `line${left.length === 1 ? '' : 's'} and ollama_create_model puts ${them} back; pass max_bytes ${fullBytes + 1024} to see ${them}.`;
  return result;
}

/** Puts back into a create body what ollama_show_model left out of the Modelfile, from the model it names. */
export async function putBackLeftOut(
  modelfile: string,
  body: OllamaCreateRequest,
  show: (model: string) => Promise<OllamaShowResponse>,
): Promise<void> {
  // A long show leaves out both LICENSE and TEMPLATE of the same model: ask Ollama once per model.
  const shown = new Map<string, Promise<OllamaShowResponse>>();
  for (const { instruction, model } of leftOutMarkers(modelfile)) {
    if (body[instruction] !== undefined) continue; // the Modelfile gives its own value
    if (!shown.has(model)) shown.set(model, show(model));
    const source = await shown.get(model)!;
    if (instruction === 'template') {
      if (source.template !== undefined) body.template = source.template;
      continue;
    }
    // The Modelfile keeps license texts apart (one LICENSE per layer); show's `license` joins them.
    let licenses: string | string[] | undefined;
    try {
      licenses = parseModelfile(source.modelfile ?? '').license;
    } catch {
      licenses = undefined;
    }
    licenses ??= source.license;
    if (licenses !== undefined) body.license = licenses;
  }
}
