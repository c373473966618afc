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
 *
 * This file is the entry point that tests, bench/ and scripts/ import; the parts live in fake-ollama/:
 * types, model names, the Go wire format, the catalogue, model views, routes, the pull/create streams.
 */
export type {
  FakeCancel,
  FakeDetails,
  FakeLayer,
  FakeLayerKind,
  FakeLoadedModel,
  FakeModel,
  FakeOllama,
  FakeOllamaOptions,
  FakeOllamaState,
  FakeParamValue,
  FakeRegistryModel,
  FakeRequest,
} from './fake-ollama/types.js';
export { displayName, modelKey, parseModelName } from './fake-ollama/model-names.js';
export { fakeDigest, goTime } from './fake-ollama/go-wire.js';
export { addModel, LLAMA32_STOPS, LLAMA32_TEMPLATE, newState, REQUIREMENTS_AGENT_SYSTEM } from './fake-ollama/catalogue.js';
export { modelfileText, parametersText } from './fake-ollama/model-views.js';
export { startFakeOllama } from './fake-ollama/server.js';
