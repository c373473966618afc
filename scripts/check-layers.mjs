#!/usr/bin/env node
// Fails when an import in src/ points up the layers, naming the file and the import, so the
// structure drawn in the README cannot erode unnoticed. Usage: check-layers.mjs [project root].
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Lowest first; a file may import from its own layer and the ones before it. `src/` alone is the
 * entry points (app.ts, app.module.ts, cli.ts, ...); version.ts is a constant every layer may read.
 */
export const LAYERS = [
  { name: 'config', paths: ['src/config/', 'src/version.ts'] },
  { name: 'common', paths: ['src/common/'] },
  { name: 'infra', paths: ['src/infra/'] },
  { name: 'metrics', paths: ['src/metrics/'] },
  { name: 'operations', paths: ['src/operations/'] },
  { name: 'modules', paths: ['src/modules/'] },
  { name: 'openapi', paths: ['src/openapi/'] },
  { name: 'mcp/health', paths: ['src/mcp/', 'src/health/'] },
  { name: 'app', paths: ['src/'] },
];

/** Folders of one layer that must not import each other: the two transports share only src/infra/. */
const APART = [['src/infra/local/', 'src/infra/ssh/']];

function layerOf(file) {
  for (const [i, layer] of LAYERS.entries()) {
    for (const p of layer.paths) {
      if (p === 'src/' ? path.posix.dirname(file) === 'src' : p.endsWith('/') ? file.startsWith(p) : file === p) return i;
    }
  }
  return -1;
}

function tsFiles(root, dir) {
  const out = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...tsFiles(root, rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Relative specifiers of static imports, re-exports, side-effect and dynamic imports, type-only included. */
function relativeImports(source) {
  const specs = [];
  for (const m of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.[^'"]*)['"]/g)) specs.push(m[1]);
  return specs;
}

export function checkLayers(root) {
  const problems = [];
  const order = LAYERS.map((l) => l.name).join(' → ');
  for (const file of tsFiles(root, 'src')) {
    const from = layerOf(file);
    if (from < 0) {
      problems.push(`${file}: is in no layer; add its folder to LAYERS in scripts/check-layers.mjs`);
      continue;
    }
    for (const spec of relativeImports(readFileSync(path.join(root, file), 'utf8'))) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (!target.startsWith('src/')) continue;
      const to = layerOf(target);
      if (to > from) {
        problems.push(`${file}: imports '${spec}' (${LAYERS[to].name}) from the ${LAYERS[from].name} layer; imports point down: ${order}`);
      }
      for (const [a, b] of APART) {
        if ((file.startsWith(a) && target.startsWith(b)) || (file.startsWith(b) && target.startsWith(a))) {
          problems.push(
            `${file}: imports '${spec}': ${a} and ${b} must not import each other; what both need lives in the folder above them`,
          );
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = checkLayers(root);
  if (problems.length) {
    for (const p of problems) console.error(p);
    console.error(`check:layers: ${problems.length} import(s) point the wrong way`);
    process.exit(1);
  }
  console.log('check:layers: every import in src/ points down the layers');
}
