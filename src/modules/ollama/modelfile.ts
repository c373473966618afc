import { AppError } from '../../common/errors.js';
import type { OllamaCreateRequest, OllamaMessage, OllamaParameterValue } from '../../infra/ollama/ollama-wire-types.js';
import { isValidModelName } from '../../infra/ollama/model-name.js';
import { clip } from '../../common/text.js';
import { FLOAT, MODELFILE_PARAMETER_TYPES } from './model-parameters.js';

/**
 * Modelfile text → the structured `/api/create` body that Ollama >= 0.5.5 requires (it silently ignores the
 * old `modelfile` field and then answers `neither 'from' or 'files' was specified`). The Ollama CLI does the
 * same translation on the client side (parser/parser.go); this follows its syntax:
 *
 * - `INSTRUCTION value`, instruction names case-insensitive; `#` starts a comment only at the start of a
 *   line; blank lines ignored.
 * - A value is the rest of the line, trimmed; `"…"` and `"""…"""` are unquoted and may span lines (the
 *   value ends at the first line end where the text so far ends with the closing quote(s)). This is also
 *   how `ollama show --modelfile` writes multi-line values.
 * - `PARAMETER name value`: typed like Ollama's Options struct (ints, floats, booleans); repeated `stop`
 *   values form a list; an unknown name is refused, as the CLI does.
 * - `MESSAGE role content`, role one of system, user, assistant, tool (the CLI's parser knows only the first
 *   three; the server stores any role, and `tool` turns make few-shot tool examples possible).
 * - `LICENSE` may repeat (one → string, several → list); `TEMPLATE`, `SYSTEM`, `RENDERER`, `PARSER`,
 *   `REQUIRES`: the last one wins.
 *
 * Paths. This server reaches Ollama over HTTP and cannot upload files from its own disk, so:
 * - `FROM <model name>` → `from`.
 * - `FROM <…>/blobs/sha256-<hex>` (what `ollama show --modelfile` prints, `sha256:` on old versions, `\` on
 *   Windows) names a blob that is already on the Ollama host → `files: {"sha256-<hex>": "sha256:<hex>"}`,
 *   exactly what the CLI sends for that line; a second such FROM (a vision projector) adds a file. This is
 *   what makes "show the Modelfile, change one line, create again" work.
 * - `ADAPTER` / `DRAFT` with such a blob path → `adapters` / `draft_files` likewise.
 * - Any other path (`./model.gguf`, `/home/me/lora.gguf`, `~/x`) is refused with a 400 saying why: it would
 *   name a file on a disk Ollama cannot read through us. (Current Ollama also refuses LoRA adapters outright;
 *   that answer comes back from Ollama as its own 400.)
 */

export type CreateBody = Omit<OllamaCreateRequest, 'model'>;

export const MODELFILE_MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;

const INSTRUCTIONS = [
  'from',
  'parameter',
  'template',
  'system',
  'message',
  'license',
  'adapter',
  'renderer',
  'parser',
  'requires',
  'draft',
] as const;
type Instruction = (typeof INSTRUCTIONS)[number];

/** `<anything>/blobs/sha256-<hex>` or `sha256:<hex>`, with `/` or `\` separators. */
const BLOB_PATH = /(?:^|[\\/])blobs[\\/]sha256[-:]([0-9a-f]{64})$/;
const INT = /^[+-]?\d+$/;
const BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** One instruction of a Modelfile, with the lines it spans. */
export interface ModelfileCommand {
  instruction: Instruction;
  /** PARAMETER name or MESSAGE role. */
  key?: string;
  value: string;
  line: number;
  /** Lines the command spans: 0-based, end exclusive. */
  start: number;
  end: number;
}

export function parseModelfile(text: string): CreateBody {
  const commands = tokenizeModelfile(text);
  const body: CreateBody = {};
  const parameters: Record<string, OllamaParameterValue> = {};
  const messages: OllamaMessage[] = [];
  const licenses: string[] = [];
  let fromLine: number | undefined;

  for (const cmd of commands) {
    switch (cmd.instruction) {
      case 'from': {
        const blob = blobDigest(cmd.value);
        if (blob) {
          body.files = { ...body.files, [`sha256-${blob}`]: `sha256:${blob}` };
        } else if (looksLikePath(cmd.value)) {
          throw lineError(
            cmd.line,
            `FROM ${cmd.value} names a file on disk; this server talks to Ollama over HTTP and cannot upload files. ` +
              'Use the name of a model Ollama already has (e.g. FROM llama3.2) or the blob path printed by `ollama show --modelfile`.',
          );
        } else if (!isValidModelName(cmd.value)) {
          throw lineError(cmd.line, `FROM '${cmd.value}' is not a valid model name (e.g. FROM llama3.2 or FROM gemma:2b).`);
        } else if (body.from !== undefined && body.from !== cmd.value) {
          throw lineError(cmd.line, `a second FROM model name ('${cmd.value}' after '${body.from}'); a Modelfile builds on one model.`);
        } else {
          body.from = cmd.value;
        }
        if (body.from !== undefined && body.files !== undefined) {
          throw lineError(
            cmd.line,
            'FROM mixes a model name and a blob path; use either FROM <model name> or the blob FROM lines printed by `ollama show --modelfile`.',
          );
        }
        fromLine ??= cmd.line;
        break;
      }
      case 'adapter':
      case 'draft': {
        const blob = blobDigest(cmd.value);
        const word = cmd.instruction.toUpperCase();
        if (!blob) {
          throw lineError(
            cmd.line,
            `${word} ${cmd.value}: ${cmd.instruction === 'adapter' ? 'adapters' : 'draft models'} from local paths are not supported; ` +
              'this server talks to Ollama over HTTP and cannot upload files. Run `ollama create` on the Ollama host for that, ' +
              'or remove the line.',
          );
        }
        const field = cmd.instruction === 'adapter' ? 'adapters' : 'draft_files';
        body[field] = { ...body[field], [`sha256-${blob}`]: `sha256:${blob}` };
        break;
      }
      case 'parameter':
        addParameter(parameters, cmd);
        break;
      case 'message':
        messages.push({ role: cmd.key as string, content: cmd.value });
        break;
      case 'license':
        licenses.push(cmd.value);
        break;
      case 'template':
      case 'system':
      case 'renderer':
      case 'parser':
        // Empty values are left out, as the CLI's omitempty fields do: Ollama then keeps the base model's.
        if (cmd.value === '') delete body[cmd.instruction];
        else body[cmd.instruction] = cmd.value;
        break;
      case 'requires': {
        const version = cmd.value.replace(/^v/, '');
        if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) {
          throw lineError(cmd.line, `REQUIRES must be an Ollama version such as 0.14.0, not '${cmd.value}'.`);
        }
        body.requires = version;
        break;
      }
    }
  }

  if (fromLine === undefined) {
    throw new AppError(
      400,
      'VALIDATION_FAILED',
      'Modelfile has no FROM line; start it with FROM <model name>, e.g. FROM llama3.2 (or keep the FROM line that `ollama show --modelfile` printed).',
    );
  }
  if (Object.keys(parameters).length > 0) body.parameters = parameters;
  if (messages.length > 0) body.messages = messages;
  if (licenses.length === 1) body.license = licenses[0];
  else if (licenses.length > 1) body.license = licenses;
  return body;
}

function addParameter(parameters: Record<string, OllamaParameterValue>, cmd: ModelfileCommand): void {
  const name = cmd.key as string;
  const type = MODELFILE_PARAMETER_TYPES[name];
  if (!type) {
    throw lineError(cmd.line, `unknown parameter '${name}'; known parameters are ${Object.keys(MODELFILE_PARAMETER_TYPES).join(', ')}.`);
  }
  const raw = cmd.value;
  switch (type) {
    case 'int':
      if (!INT.test(raw) || !Number.isSafeInteger(Number(raw))) {
        throw lineError(cmd.line, `PARAMETER ${name} needs a whole number, not '${raw}'.`);
      }
      parameters[name] = Number(raw);
      return;
    case 'float':
      if (!FLOAT.test(raw) || !Number.isFinite(Number(raw))) {
        throw lineError(cmd.line, `PARAMETER ${name} needs a number such as 0.7, not '${raw}'.`);
      }
      parameters[name] = Number(raw);
      return;
    case 'bool':
      if (BOOL_TRUE.has(raw)) parameters[name] = true;
      else if (BOOL_FALSE.has(raw)) parameters[name] = false;
      else throw lineError(cmd.line, `PARAMETER ${name} needs true or false, not '${raw}'.`);
      return;
    case 'string[]': {
      // Pushed, not copied: a copy per line was quadratic in the number of repeated lines.
      const existing = parameters[name];
      if (Array.isArray(existing)) existing.push(raw);
      else parameters[name] = [raw];
      return;
    }
  }
}

/** The Modelfile's instructions in order; throws the same 400s as parseModelfile for bad syntax. */
export function tokenizeModelfile(text: string): ModelfileCommand[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const commands: ModelfileCommand[] = [];
  let i = 0;
  while (i < lines.length) {
    const lineNo = i + 1;
    const line = lines[i] as string;
    i++;
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;

    const word = /^[A-Za-z]+/.exec(trimmed)?.[0];
    if (!word) {
      throw lineError(
        lineNo,
        `expected an instruction (FROM, PARAMETER, TEMPLATE, SYSTEM, MESSAGE, LICENSE, ADAPTER), found '${clip(trimmed, 40)}'.`,
      );
    }
    const instruction = word.toLowerCase() as Instruction;
    if (!INSTRUCTIONS.includes(instruction)) {
      throw lineError(
        lineNo,
        `unknown instruction '${word}'; use FROM, PARAMETER, TEMPLATE, SYSTEM, MESSAGE, LICENSE or ADAPTER (also RENDERER, PARSER, REQUIRES), or start the line with # for a comment.`,
      );
    }
    let rest = trimmed.slice(word.length);
    if (!/^[ \t]/.test(rest)) {
      throw lineError(lineNo, rest === '' ? `${word.toUpperCase()} needs a value.` : `expected a space after ${word.toUpperCase()}.`);
    }
    rest = rest.replace(/^[ \t]+/, '');

    let key: string | undefined;
    if (instruction === 'parameter' || instruction === 'message') {
      const m = (instruction === 'parameter' ? /^([A-Za-z0-9_]+)(?:[ \t]+|$)/ : /^([A-Za-z]+)(?:[ \t]+|$)/).exec(rest);
      if (!m) {
        throw lineError(
          lineNo,
          instruction === 'parameter'
            ? `PARAMETER needs a name and a value, e.g. PARAMETER temperature 0.7.`
            : `MESSAGE needs a role and a message, e.g. MESSAGE user Is Toronto in Canada?`,
        );
      }
      key = (m[1] as string).toLowerCase();
      if (instruction === 'message' && !(MODELFILE_MESSAGE_ROLES as readonly string[]).includes(key)) {
        throw lineError(lineNo, `MESSAGE role must be one of ${MODELFILE_MESSAGE_ROLES.join(', ')}, not '${m[1]}'.`);
      }
      rest = rest.slice(m[0].length);
    }

    // The value ends at the first line end where the text so far forms a complete (quoted or bare) value.
    // Only the newest line can close it (a closing quote never spans a line end), so each line is looked at
    // once: re-checking the whole growing value per line was quadratic in the size of an unclosed one.
    let value = rest;
    let unquoted = unquote(value.trim());
    if (unquoted === undefined) {
      const closing = value.trim().startsWith('"""') ? '"""' : '"';
      const parts = [value];
      for (;;) {
        if (i >= lines.length) {
          throw lineError(
            lineNo,
            `the value of ${word.toUpperCase()} opens with ${closing} but is never closed; end it with ${closing} at the end of a line.`,
          );
        }
        const next = lines[i++] as string;
        parts.push(next);
        if (next.trimEnd().endsWith(closing)) break;
      }
      value = parts.join('\n');
      unquoted = unquote(value.trim()) as string;
    }
    if (unquoted === '' && (instruction === 'from' || instruction === 'parameter' || instruction === 'message')) {
      throw lineError(lineNo, `${word.toUpperCase()}${key ? ` ${key}` : ''} needs a value.`);
    }
    commands.push({ instruction, key, value: unquoted, line: lineNo, start: lineNo - 1, end: i });
  }
  return commands;
}

/** parser.go `unquote`: `"""x"""` and `"x"` lose their quotes; undefined means "not closed yet". */
function unquote(s: string): string | undefined {
  if (s.startsWith('"""')) return s.length >= 6 && s.endsWith('"""') ? s.slice(3, -3) : undefined;
  if (s.startsWith('"')) return s.length >= 2 && s.endsWith('"') ? s.slice(1, -1) : undefined;
  return s;
}

function blobDigest(value: string): string | undefined {
  return BLOB_PATH.exec(value)?.[1];
}

function looksLikePath(value: string): boolean {
  return /^(?:\/|\.{1,2}[\\/]|~|[A-Za-z]:[\\/])/.test(value) || value.includes('\\') || /\.(?:gguf|bin|safetensors)$/i.test(value);
}

function lineError(line: number, message: string): AppError {
  return new AppError(400, 'VALIDATION_FAILED', `Modelfile line ${line}: ${message}`);
}
