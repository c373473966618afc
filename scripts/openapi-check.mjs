#!/usr/bin/env node
// Regenerates the OpenAPI document from the built server and fails when it differs from the committed
// openapi.json, so the spec Open WebUI imports can never drift from the code unnoticed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const generated = execFileSync(process.execPath, ['dist/bundle/cli.js', 'openapi'], {
  encoding: 'utf8',
  env: { HOME: process.env.HOME, PATH: process.env.PATH },
});
let committed;
try {
  committed = readFileSync('openapi.json', 'utf8');
} catch {
  console.error('openapi:check: openapi.json is missing; run `npm run openapi:generate` and commit it.');
  process.exit(1);
}
if (generated === committed) {
  console.log('openapi:check: openapi.json is up to date');
  process.exit(0);
}
const a = committed.split('\n');
const b = generated.split('\n');
let i = 0;
while (i < a.length && i < b.length && a[i] === b[i]) i++;
console.error(`openapi:check: openapi.json differs from the generated spec (first difference at line ${i + 1}):`);
console.error(`  committed: ${a[i] ?? '<end of file>'}`);
console.error(`  generated: ${b[i] ?? '<end of file>'}`);
console.error('Run `npm run openapi:generate` and commit the result.');
process.exit(1);
