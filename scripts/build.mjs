#!/usr/bin/env node
// Compiles src/ into dist/ with TypeScript and the @nestjs/swagger plugin, which reads the DTO classes'
// types and doc comments and writes their OpenAPI schemas into the output. This is what `nest build`
// with the tsc builder does; doing it here drops the Nest CLI, whose build tooling (Angular devkit,
// commander) no longer installs on Node 20 without engine warnings.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ts from 'typescript';
import { before as swaggerPlugin } from '@nestjs/swagger/plugin';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const configPath = path.join(root, 'tsconfig.json');

const read = ts.readConfigFile(configPath, ts.sys.readFile);
if (read.error) fail([read.error]);
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
if (parsed.errors.length) fail(parsed.errors);

// A stale file from a deleted source must not survive into the bundle.
rmSync(parsed.options.outDir, { recursive: true, force: true });

const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const plugin = swaggerPlugin({ classValidatorShim: true, introspectComments: true, dtoFileNameSuffix: ['.dto.ts'] }, program);
const emitted = program.emit(undefined, undefined, undefined, false, { before: [plugin] });
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (diagnostics.length || emitted.emitSkipped) fail(diagnostics);

function fail(diagnostics) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}
