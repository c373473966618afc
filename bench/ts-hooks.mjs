/**
 * Module hooks that let the bench import the TypeScript test helpers (test/support/*.ts) as they are, so
 * the sshd starter, the fake nvidia-smi installer, the server runner and the MCP client are the tests' own
 * code, not copies. Node 20 cannot strip types itself; the TypeScript compiler the project already depends
 * on transpiles each file (no type checking, like vitest's esbuild step). Only files under test/ are touched.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const testDirUrl = new URL('../test/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  // The helpers use nodenext spelling: './sshd.js' names ./sshd.ts.
  if (context.parentURL?.startsWith(testDirUrl) && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(fileURLToPath(url))) {
      const tsUrl = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith(testDirUrl) && url.endsWith('.ts')) {
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
