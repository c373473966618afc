import { StringDecoder } from 'node:string_decoder';

/**
 * Line-by-line reader for Ollama's NDJSON streams (`application/x-ndjson`: one compact JSON object and
 * `\n` per line). Lines are parsed as they complete, so progress is reported while a multi-gigabyte
 * pull is still running, and memory stays bounded by the longest line, not by the stream.
 */

export interface NdjsonReadOptions {
  /** A line longer than this is refused (Ollama's lines are well under 1 KiB). Default 1 MiB. */
  maxLineBytes?: number;
  /** Called for every chunk received, before it is split; used to reset an idle timer. */
  onChunk?: (bytes: number) => void;
}

export type NdjsonProblem = 'invalid-json' | 'line-too-long';

/** A line that is not JSON, or is too long. `snippet` is the start of the line (at most 200 chars). */
export class NdjsonLineError extends Error {
  constructor(
    readonly problem: NdjsonProblem,
    readonly snippet: string,
  ) {
    super(problem === 'invalid-json' ? 'stream line is not JSON' : 'stream line is too long');
    this.name = 'NdjsonLineError';
  }
}

const DEFAULT_MAX_LINE = 1024 * 1024;

export async function* readNdjson(
  source: AsyncIterable<Buffer | string>,
  options: NdjsonReadOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  // StringDecoder keeps a multi-byte UTF-8 character that is split across two chunks intact.
  const decoder = new StringDecoder('utf8');
  let buffer = '';

  for await (const chunk of source) {
    options.onChunk?.(chunk.length);
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const parsed = parseLine(line);
      if (parsed !== undefined) yield parsed.value;
      newline = buffer.indexOf('\n');
    }
    if (buffer.length > maxLine) throw new NdjsonLineError('line-too-long', buffer.slice(0, 200));
  }
  buffer += decoder.end();
  const last = parseLine(buffer);
  if (last !== undefined) yield last.value;
}

function parseLine(raw: string): { value: unknown } | undefined {
  const line = raw.trim();
  if (line === '') return undefined;
  try {
    return { value: JSON.parse(line) as unknown };
  } catch {
    throw new NdjsonLineError('invalid-json', line.slice(0, 200));
  }
}
