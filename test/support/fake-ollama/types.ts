/** What the fake Ollama stores and what its start options and handle look like. */
import type http from 'node:http';

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
