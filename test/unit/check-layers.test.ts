/** scripts/check-layers.mjs: run as CI runs it, on temp trees with planted imports and on this project. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = path.resolve('scripts/check-layers.mjs');
const roots: string[] = [];

/** A project tree holding only the given src/ files. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ght-layers-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

function check(root?: string) {
  const r = spawnSync(process.execPath, root ? [script, root] : [script], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** The files every planted tree starts from: one per layer, each importing the one below it. */
const base = {
  'src/config/config.types.ts': 'export type Scope = string;\n',
  'src/version.ts': "export const VERSION = '1';\n",
  'src/common/errors.ts': "import type { Scope } from '../config/config.types.js';\nexport type E = Scope;\n",
  'src/infra/shell-quote.ts': "import type { E } from '../common/errors.js';\nexport type Q = E;\n",
  'src/infra/ssh/ssh-transport.ts': "import type { Q } from '../shell-quote.js';\nexport type S = Q;\n",
  'src/infra/local/local-transport.ts': "import type { Q } from '../shell-quote.js';\nexport type L = Q;\n",
  'src/metrics/metrics.service.ts': "import type { S } from '../infra/ssh/ssh-transport.js';\nexport type M = S;\n",
  'src/operations/operation.ts': "import type { M } from '../metrics/metrics.service.js';\nexport type O = M;\n",
  'src/modules/gpu/gpu.service.ts': "import type { O } from '../../operations/operation.js';\nexport type G = O;\n",
  'src/modules/panel/panel.service.ts': "import type { G } from '../gpu/gpu.service.js';\nexport type P = G;\n",
  'src/openapi/openapi.ts': "import type { O } from '../operations/operation.js';\nexport type A = O;\n",
  'src/mcp/tool-runner.ts':
    "import type { A } from '../openapi/openapi.js';\nimport { VERSION } from '../version.js';\nexport const T: A | string = VERSION;\n",
  'src/app.module.ts': "import type { P } from './modules/panel/panel.service.js';\nimport './mcp/tool-runner.js';\nexport type X = P;\n",
};

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('check-layers', () => {
  it('passes on this project', () => {
    const r = check();
    expect(r.out).toContain('every import in src/ points down the layers');
    expect(r.status).toBe(0);
  });

  it('passes on a tree whose imports all point down, the entry points and version.ts included', () => {
    const r = check(tree(base));
    expect(r.out).toContain('points down');
    expect(r.status).toBe(0);
  });

  it('fails on a planted upward import, naming the file, the import and both layers', () => {
    const r = check(
      tree({ ...base, 'src/common/call-recorder.ts': "import { M } from '../metrics/metrics.service.js';\nexport type C = M;\n" }),
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain("src/common/call-recorder.ts: imports '../metrics/metrics.service.js' (metrics) from the common layer");
    expect(r.out).toContain('config → common → infra → metrics → operations → modules → openapi → mcp/health → app');
    expect(r.out).toContain('1 import(s) point the wrong way');
  });

  it.each([
    ['a multi-line import', "import {\n  type G,\n  type O,\n} from '../modules/gpu/gpu.service.js';\n"],
    ['a re-export', "export { G } from '../modules/gpu/gpu.service.js';\n"],
    ['a type-only import', "import type { G } from '../modules/gpu/gpu.service.js';\n"],
    ['a side-effect import', "import '../modules/gpu/gpu.service.js';\n"],
    ['a dynamic import', "export const g = () => import('../modules/gpu/gpu.service.js');\n"],
    ['a double-quoted specifier', 'import type { G } from "../modules/gpu/gpu.service.js";\n'],
  ])('catches %s pointing up', (_kind, text) => {
    const r = check(tree({ ...base, 'src/metrics/gpu-gauges.ts': text }));
    expect(r.status).toBe(1);
    expect(r.out).toContain("src/metrics/gpu-gauges.ts: imports '../modules/gpu/gpu.service.js' (modules) from the metrics layer");
  });

  it('fails when an entry point is imported from below (common importing app.module)', () => {
    const r = check(tree({ ...base, 'src/common/x.ts': "import type { X } from '../app.module.js';\nexport type Y = X;\n" }));
    expect(r.status).toBe(1);
    expect(r.out).toContain("src/common/x.ts: imports '../app.module.js' (app) from the common layer");
  });

  it('fails when the local transport imports from the ssh transport, and the other way round', () => {
    const r = check(
      tree({
        ...base,
        'src/infra/local/local-transport.ts': "import type { S } from '../ssh/ssh-transport.js';\nexport type L = S;\n",
        'src/infra/ssh/ssh-helpers.ts': "import type { L } from '../local/local-transport.js';\nexport type H = L;\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain("src/infra/local/local-transport.ts: imports '../ssh/ssh-transport.js'");
    expect(r.out).toContain("src/infra/ssh/ssh-helpers.ts: imports '../local/local-transport.js'");
    expect(r.out).toContain('2 import(s) point the wrong way');
  });

  it('fails on a source folder that belongs to no layer instead of letting it import anything', () => {
    const r = check(tree({ ...base, 'src/plugins/p.ts': "import type { X } from '../app.module.js';\nexport type Z = X;\n" }));
    expect(r.status).toBe(1);
    expect(r.out).toContain('src/plugins/p.ts: is in no layer');
  });

  it('ignores package imports and imports leaving src/', () => {
    const r = check(
      tree({
        ...base,
        'src/common/pkg.ts': "import { Injectable } from '@nestjs/common';\nimport '../../package.json';\nexport { Injectable };\n",
      }),
    );
    expect(r.status).toBe(0);
  });
});
