/**
 * What Ollama's REST API sends and takes: its JSON, snake_case as on the wire, typed for the fields Ollama
 * documents (test/fixtures/ollama holds captured answers of real servers). Types only; the client in
 * ollama-client.ts sends and reads them.
 */

export interface OllamaModelDetails {
  parent_model: string;
  format: string;
  family: string;
  /** Very often `null` in real output. */
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
  /** Newer servers only. */
  context_length?: number;
  embedding_length?: number;
}

/** One entry of `GET /api/tags`. `name` and `model` are the same short display name. */
export interface OllamaListModel {
  name: string;
  model: string;
  /** RFC 3339 with nanoseconds and the server's offset. */
  modified_at: string;
  size: number;
  /** sha256 hex of the manifest, without a `sha256:` prefix. */
  digest: string;
  details: OllamaModelDetails;
  capabilities?: string[];
  /** Cloud stubs (`glm-5.3:cloud`) only. */
  remote_model?: string;
  remote_host?: string;
}

export interface OllamaTagsResponse {
  models: OllamaListModel[];
}

/** One entry of `GET /api/ps`. `size_vram < size` means partly on the CPU. */
export interface OllamaRunningModel {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: OllamaModelDetails;
  expires_at: string;
  size_vram: number;
  /** Since 2025. */
  context_length?: number;
}

export interface OllamaPsResponse {
  models: OllamaRunningModel[];
}

export interface OllamaVersionResponse {
  version: string;
}

export interface OllamaMessage {
  role: string;
  content: string;
}

/** `POST /api/show`. Everything is optional on the wire except what the model has. */
export interface OllamaShowResponse {
  license?: string;
  modelfile?: string;
  /** Newline-separated `key<padding>value` text, not JSON. */
  parameters?: string;
  template?: string;
  system?: string;
  details?: OllamaModelDetails;
  messages?: OllamaMessage[];
  model_info?: Record<string, unknown>;
  projector_info?: Record<string, unknown>;
  capabilities?: string[];
  modified_at?: string;
  renderer?: string;
  parser?: string;
  remote_model?: string;
  remote_host?: string;
  requires?: string;
}

/** The single JSON answer of an unload (`POST /api/generate` with `keep_alive: 0`). */
export interface OllamaGenerateResponse {
  model: string;
  created_at: string;
  response: string;
  done: boolean;
  /** `unload` since Ollama 0.3.11; older servers answer `load`. */
  done_reason?: string;
}

/** One line of a pull or create stream. `digest`, `total` and `completed` are omitted while empty or 0. */
export interface OllamaProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export type OllamaParameterValue = number | boolean | string | string[];

/**
 * The structured `/api/create` body of Ollama >= 0.5.5 (the old `modelfile` field is silently ignored by
 * those servers). Exactly one of `from` (an existing model name) or `files` (file name -> `sha256:<hex>` of
 * blobs already on the Ollama host) is required.
 */
export interface OllamaCreateRequest {
  model: string;
  from?: string;
  files?: Record<string, string>;
  adapters?: Record<string, string>;
  /** Speculative-decoding draft model blobs (newer servers). */
  draft_files?: Record<string, string>;
  template?: string;
  system?: string;
  license?: string | string[];
  parameters?: Record<string, OllamaParameterValue>;
  messages?: OllamaMessage[];
  quantize?: string;
  renderer?: string;
  parser?: string;
  requires?: string;
}
