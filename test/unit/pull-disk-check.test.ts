import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appErrorOf } from '../support/errors.js';
import {
  PullSpaceCheck,
  SERVICE_MODELS_DIR,
  buildModelsDirCommand,
  parseModelsDirSpace,
} from '../../src/modules/ollama/pull-disk-check.js';

const GIB = 1024 ** 3;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ght-models-dir-'));
  dirs.push(d);
  return d;
}

/** Runs the command the way a transport does: through a shell, with a chosen environment. */
function run(command: string, env: Record<string, string> = {}, cwd = tempDir()): string {
  return execFileSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
}

describe('buildModelsDirCommand + parseModelsDirSpace on this machine (real sh and df)', () => {
  it('a configured directory: its own file system and free space', () => {
    const dir = tempDir();
    const space = parseModelsDirSpace(run(buildModelsDirCommand(dir)));
    expect(space).not.toBeNull();
    expect(space!.dir).toBe(dir);
    expect(space!.mount.startsWith('/')).toBe(true);
    expect(space!.available_bytes).toBeGreaterThan(0);
  });

  it('a directory not created yet: df reads the nearest existing parent', () => {
    const dir = tempDir();
    const missing = join(dir, 'not', 'yet', 'models');
    const space = parseModelsDirSpace(run(buildModelsDirCommand(missing)));
    expect(space?.dir).toBe(missing);
    expect(space?.available_bytes).toBeGreaterThan(0);
    expect(existsSync(missing)).toBe(false); // looked at, never created
  });

  it('a path with quotes, spaces, $ and backticks is data, not shell', () => {
    const cwd = tempDir();
    const dir = join(cwd, `it's a "dir" $(touch pwned) \`touch pwned2\``);
    mkdirSync(dir);
    const space = parseModelsDirSpace(run(buildModelsDirCommand(dir), {}, cwd));
    expect(space?.dir).toBe(dir);
    expect(existsSync(join(cwd, 'pwned'))).toBe(false);
    expect(existsSync(join(cwd, 'pwned2'))).toBe(false);
  });

  it("nothing configured: the account's OLLAMA_MODELS, else ~/.ollama/models (when no systemd unit or service install says otherwise)", () => {
    const home = tempDir();
    const systemdUnitSays = (() => {
      try {
        return /OLLAMA_MODELS=/.test(run('systemctl show -p Environment ollama 2>/dev/null || true'));
      } catch {
        return false;
      }
    })();
    if (systemdUnitSays || existsSync(SERVICE_MODELS_DIR)) return; // this machine runs the service: its directory wins
    expect(parseModelsDirSpace(run(buildModelsDirCommand(), { HOME: home }))?.dir).toBe(`${home}/.ollama/models`);
    const custom = join(home, 'big-disk');
    expect(parseModelsDirSpace(run(buildModelsDirCommand(), { HOME: home, OLLAMA_MODELS: custom }))?.dir).toBe(custom);
  });

  it("the systemd unit's OLLAMA_MODELS wins over the defaults (systemctl show output as systemd prints it)", () => {
    const bin = tempDir();
    const models = join(tempDir(), 'models');
    writeFileSync(
      join(bin, 'systemctl'),
      `#!/bin/sh\n[ "$*" = "show -p Environment ollama" ] || exit 1\necho 'Environment=OLLAMA_HOST=0.0.0.0 OLLAMA_MODELS=${models} CUDA_VISIBLE_DEVICES=0'\n`,
    );
    chmodSync(join(bin, 'systemctl'), 0o755);
    const space = parseModelsDirSpace(run(buildModelsDirCommand(), { PATH: `${bin}:${process.env.PATH}`, HOME: tempDir() }));
    expect(space?.dir).toBe(models);
    // A configured directory still wins over the unit.
    const configured = tempDir();
    expect(parseModelsDirSpace(run(buildModelsDirCommand(configured), { PATH: `${bin}:${process.env.PATH}` }))?.dir).toBe(configured);
  });

  it('parses a captured df line; no df figure (df missing or failing) gives null, so the pull is not blocked', () => {
    const out =
      '@@gpu-host-tools:models-dir:/usr/share/ollama/.ollama/models\nFilesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda         264212084 23061408  83329504      22% /\n';
    expect(parseModelsDirSpace(out)).toEqual({
      dir: '/usr/share/ollama/.ollama/models',
      mount: '/',
      available_bytes: Math.round(79.47 * GIB),
    });
    expect(parseModelsDirSpace('@@gpu-host-tools:models-dir:/x\nsh: 1: df: not found\n')).toBeNull();
    expect(parseModelsDirSpace('')).toBeNull();
    expect(parseModelsDirSpace('garbage\n/dev/vda 1 1 1 1% /\n')).toBeNull();
  });
});

describe('PullSpaceCheck', () => {
  const space = { dir: '/data/ollama/models', mount: '/data', available_bytes: 10 * 1e9 };
  const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

  it('stops at the first line of a layer that cannot fit, with needed, available and where', () => {
    const check = new PullSpaceCheck('whisper', 'llama3.3:70b', space);
    check.observe({ status: 'pulling manifest' });
    const err = appErrorOf(() => check.observe({ status: 'pulling 4824460d29f2', digest: digest(1), total: 42_520_412_160 }));
    expect(err).toMatchObject({ status: 413, code: 'TOO_LARGE' });
    expect(err.message).toContain("pull 'llama3.3:70b' on host 'whisper'");
    expect(err.message).toContain('needs 42.52 GB more (42520412160 bytes');
    expect(err.message).toContain('10.00 GB is free on /data, the file system of /data/ollama/models');
    expect(err.message).toContain('ollama_delete_model');
  });

  it('adds the layers up: the third one tips it over', () => {
    const check = new PullSpaceCheck('h', 'm', space);
    check.observe({ status: 'pulling a', digest: digest(1), total: 6e9 });
    check.observe({ status: 'pulling a', digest: digest(1), total: 6e9, completed: 3e9 }); // same layer again: counted once
    check.observe({ status: 'pulling b', digest: digest(2), total: 3e9 });
    expect(() => check.observe({ status: 'pulling c', digest: digest(3), total: 2e9 })).toThrow(/needs 11\.00 GB more/);
  });

  it('counts only what is left: a cached layer costs nothing, a resumed one its rest', () => {
    const check = new PullSpaceCheck('h', 'm', space);
    check.observe({ status: 'pulling a', digest: digest(1), total: 40e9, completed: 40e9 });
    check.observe({ status: 'pulling b', digest: digest(2), total: 15e9, completed: 6e9 });
    expect(() => check.observe({ status: 'pulling c', digest: digest(3), total: 1e9 })).not.toThrow(); // 9 + 1 = 10, not more
    expect(() => check.observe({ status: 'pulling d', digest: digest(4), total: 1 })).toThrow(/needs 10\.00 GB more \(10000000001 bytes/);
  });

  it('ignores lines a hostile or broken stream sends: no digest, non-numbers, negative or infinite totals, completed above total', () => {
    const check = new PullSpaceCheck('h', 'm', space);
    const junk = [
      { status: 'x', total: 1e15 },
      { status: 'x', digest: digest(1), total: Number.NaN },
      { status: 'x', digest: digest(2), total: -5 },
      { status: 'x', digest: digest(3), total: Number.POSITIVE_INFINITY },
      { status: 'x', digest: digest(4), total: '1e15' as unknown as number },
      { status: 'x', digest: digest(5), total: 5e9, completed: 9e9 },
    ];
    for (const p of junk) expect(() => check.observe(p)).not.toThrow();
    expect(() => check.observe({ status: 'y', digest: digest(6), total: 10e9 })).not.toThrow(); // nothing counted so far
  });
});
