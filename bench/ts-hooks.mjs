/**
 * Module hooks that let the bench import the TypeScript test helpers (test/support/*.ts) as they are, so
 * the sshd starter, the fake nvidia-smi installer, the server runner and the MCP client are the tests' own
 * code, not copies; and the few pure source files it measures or builds its baselines from (src/, e.g. the
 * gpu_status command and the GPU history), so it needs no compiled copy of them. Node 20 cannot strip types
 * itself; the TypeScript compiler the project already depends on transpiles each file (no type checking,
 * like vitest's esbuild step). Only files under test/ and src/ are touched.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const dirUrls = [new URL('../test/', import.meta.url).href, new URL('../src/', import.meta.url).href];
const ours = (url) => dirUrls.some((dir) => url?.startsWith(dir));

export async function resolve(specifier, context, nextResolve) {
  // The sources use nodenext spelling: './sshd.js' names ./sshd.ts.
  if (ours(context.parentURL) && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(fileURLToPath(url))) {
      const tsUrl = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (ours(url) && url.endsWith('.ts')) {
    const source = readFileSync(fileURLToPath(url), 'utf8');
    const out = ts.transpileModule(source, {
      fileName: fileURLToPath(url),
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        sourceMap: false,
        inlineSourceMap: true,
      },
    });
    return { format: 'module', source: out.outputText, shortCircuit: true };
  }
  return nextLoad(url, context);
}
