#!/usr/bin/env node
/**
 * `npm run tokens`: what a small local model receives from this server, in Llama 3 tokens, against the
 * budgets of a 4k context. Runs the built server (dist/bundle) on the local transport with a fake Ollama
 * (test/support/fake-ollama.ts, loaded through bench/ts-hooks.mjs) and a files root in a temp directory,
 * then measures
 *   - the tool list Open WebUI builds from /openapi.json and every profile (scripts/tool-tokens.mjs),
 *   - MCP tools/list for the full and the read-only key (official SDK client),
 *   - the default answers of the operations that can answer the most.
 * Prints a Markdown table and exits 1 when a budget is exceeded.
 */
import { register } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTokens, functionTokens, mcpToolTokens, openWebUiTools } from './tool-tokens.mjs';

register('../bench/ts-hooks.mjs', import.meta.url);

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.GHT_DIST ??= path.join(repo, 'dist/bundle');
if (!existsSync(path.join(process.env.GHT_DIST, 'cli.js'))) {
  console.error(`tokens: ${process.env.GHT_DIST}/cli.js is missing; run npm run build first.`);
  process.exit(2);
}
const { startFakeOllama, addModel, fakeDigest, LLAMA32_TEMPLATE } = await import('../test/support/fake-ollama.ts');
const { startServer, call } = await import('../test/support/server.ts');
const { connectMcp } = await import('../test/support/mcp-client.ts');

/** Budgets in Llama 3 tokens (a 4k context leaves the rest for the conversation) and bytes. */
export const BUDGETS = {
  openWebUiFull: 3000,
  openWebUiReadonly: 1200,
  mcpFull: 3500,
  perTool: 250,
  answerBytes: 12 * 1024,
};
const API_KEY = 'tokens-full-key-0123456789';
const READ_KEY = 'tokens-read-key-0123456789';

// ---------------------------------------------------------------------------------------------------------
// What the answers are measured on

const root = mkdtempSync(path.join(os.tmpdir(), 'ght-tokens-'));
const filesRoot = path.join(root, 'files');
mkdirSync(filesRoot);
// A 1 MB text file: a service log.
const logLines = [];
for (let i = 0, size = 0; size < 1_000_000; i++) {
  const line = `2026-11-30T12:${String(i % 60).padStart(2, '0')}:00Z ollama[1234]: [GIN] 200 | 1.2ms | 127.0.0.1 | POST "/api/chat" request ${i}\n`;
  logLines.push(line);
  size += line.length;
}
writeFileSync(path.join(filesRoot, 'big.log'), logLines.join('').slice(0, 1_000_000));
// A big directory: 2,000 model files.
const bigDir = path.join(filesRoot, 'models');
mkdirSync(bigDir);
for (let i = 0; i < 2000; i++) writeFileSync(path.join(bigDir, `model-${String(i).padStart(4, '0')}.gguf`), 'x');
// Many matches for a search: 40 projects with 25 Modelfiles each.
for (let p = 0; p < 40; p++) {
  const dir = path.join(filesRoot, 'projects', `project-${p}`, 'agents');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 25; i++) writeFileSync(path.join(dir, `Modelfile-agent-${i}`), 'FROM llama3.2\n');
}

const ollama = await startFakeOllama();
// Many models: 150 installed variants of llama3.2.
const base = [...ollama.state.models.values()].find((m) => m.name === 'llama3.2:latest');
for (let i = 0; i < 150; i++) {
  const name = `agent-${String(i).padStart(3, '0')}:latest`;
  addModel(ollama.state, { ...base, name, digest: fakeDigest(`${name}/manifest`).replace('sha256:', '') });
}
// A model with a long license (the two Llama 3.2 license layers are 7,711 and 6,016 bytes) and a long
// template (tool-calling templates run to several KB).
const license = (title, bytes) =>
  (title + '\n' + 'Licensee may use, reproduce and distribute the Llama Materials. '.repeat(bytes)).slice(0, bytes);
const longTemplate = (LLAMA32_TEMPLATE + '\n{{- range .Tools }}{{ .Function.Name }}: {{ .Function.Description }}{{ end }}\n').repeat(12);
addModel(ollama.state, {
  ...base,
  name: 'long-license:latest',
  digest: fakeDigest('long-license/manifest').replace('sha256:', ''),
  license: [license('LLAMA 3.2 COMMUNITY LICENSE AGREEMENT', 7711), license('Llama 3.2 Acceptable Use Policy', 6016)],
  template: longTemplate,
});

const server = await startServer({
  API_KEY,
  READONLY_API_KEY: READ_KEY,
  FILES_ROOT: filesRoot,
  OLLAMA_URL: ollama.url,
  SHELL_ENABLED: 'true',
});

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const rows = [];
const failures = [];
const row = (what, measured, budget, unit = 'tokens') => {
  const over = budget !== undefined && measured > budget;
  if (over) failures.push(`${what}: ${measured} ${unit} > ${budget}`);
  rows.push([
    what,
    `${measured.toLocaleString('en-US')} ${unit}`,
    budget === undefined ? '—' : `${budget.toLocaleString('en-US')}`,
    over ? 'OVER' : budget === undefined ? '' : 'ok',
  ]);
};

try {
  // Open WebUI tool lists, per served spec
  const specs = ['openapi.json', 'openapi/readonly.json', ...['hosts', 'gpu', 'ollama', 'shell', 'files'].map((a) => `openapi/${a}.json`)];
  let biggest = { name: '', tokens: 0 };
  for (const spec of specs) {
    const doc = (await call(server.url, 'GET', `/${spec}`)).body;
    const fns = openWebUiTools(doc);
    const total = countTokens(JSON.stringify(fns.map((fn) => ({ type: 'function', function: fn }))));
    for (const fn of fns) {
      const t = functionTokens(fn);
      if (t > biggest.tokens) biggest = { name: fn.name, tokens: t };
    }
    const budget =
      spec === 'openapi.json' ? BUDGETS.openWebUiFull : spec === 'openapi/readonly.json' ? BUDGETS.openWebUiReadonly : undefined;
    row(`Open WebUI tool list from /${spec} (${fns.length} tools)`, total, budget);
  }
  row(`largest single tool (Open WebUI): ${biggest.name}`, biggest.tokens, BUDGETS.perTool);

  // With two hosts every tool gains a `host` enum (information: the budgets are for one host).
  const twoHosts = path.join(root, 'two-hosts.yaml');
  writeFileSync(twoHosts, 'hosts:\n  whisper:\n    transport: local\n  harbor:\n    transport: local\n');
  const two = await startServer({ CONFIG_FILE: twoHosts });
  try {
    for (const spec of ['openapi.json', 'openapi/readonly.json']) {
      const fns = openWebUiTools((await call(two.url, 'GET', `/${spec}`)).body);
      row(`the same from /${spec} with two hosts`, countTokens(JSON.stringify(fns.map((fn) => ({ type: 'function', function: fn })))));
    }
  } finally {
    await two.stop();
  }

  // MCP tools/list
  let mcpBiggest = { name: '', tokens: 0 };
  for (const [label, key, budget] of [
    ['full', API_KEY, BUDGETS.mcpFull],
    ['read-only', READ_KEY, undefined],
  ]) {
    const mcp = await connectMcp(server.url, key);
    try {
      const { tools } = await mcp.client.listTools();
      for (const tool of tools) {
        const t = mcpToolTokens(tool);
        if (t > mcpBiggest.tokens) mcpBiggest = { name: tool.name, tokens: t };
      }
      if (tools.some((t) => t.outputSchema)) failures.push(`MCP tools/list (${label}) carries outputSchema`);
      row(`MCP tools/list, ${label} key (${tools.length} tools)`, countTokens(JSON.stringify({ tools })), budget);
    } finally {
      await mcp.close();
    }
  }
  row(`largest single tool (MCP): ${mcpBiggest.name}`, mcpBiggest.tokens, BUDGETS.perTool);

  // Default answers: the body Open WebUI hands to the model
  const answers = [
    ['files_read of a 1 MB text file', 'GET', '/files/read', { query: { path: 'big.log' } }],
    ['shell_exec `seq 1 200000`', 'POST', '/shell/exec', { body: { command: 'seq 1 200000' } }],
    ['files_list of a directory of 2,000 files', 'GET', '/files/list', { query: { path: 'models' } }],
    ['files_search with 1,000 matches', 'GET', '/files/search', { query: { pattern: 'Modelfile*' } }],
    ['ollama_list_models with 156 models', 'GET', '/ollama/models', {}],
    [
      `ollama_show_model, ${kb(7711 + 6016)} license, ${kb(longTemplate.length)} template`,
      'GET',
      '/ollama/model',
      { query: { model: 'long-license' } },
    ],
  ];
  for (const [what, method, route, opts] of answers) {
    const res = await call(server.url, method, route, { key: API_KEY, ...opts });
    if (res.status !== 200) {
      failures.push(`${what}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      continue;
    }
    const bytes = Buffer.byteLength(res.text);
    row(`default ${what}`, bytes, BUDGETS.answerBytes, `bytes (${countTokens(res.text).toLocaleString('en-US')} tokens)`);
  }
} finally {
  await server.stop();
  await ollama.stop();
  rmSync(root, { recursive: true, force: true });
}

console.log('| what the model receives | measured | budget | |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (failures.length) {
  console.error(`\ntokens: ${failures.length} budget${failures.length === 1 ? '' : 's'} exceeded:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('\ntokens: every budget met');
