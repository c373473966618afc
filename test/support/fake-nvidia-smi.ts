/**
 * Installs the fake nvidia-smi (fake-nvidia-smi.sh) plus the captured data it serves into a bin directory
 * that tests put first on the remote PATH (or point nvidia_smi_path at). Files are copied unchanged from
 * test/fixtures/nvidia-smi; only their names change, so the script can find them per scenario.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const NVIDIA_SMI_FIXTURES_DIR = join(here, '..', 'fixtures', 'nvidia-smi');
export const FAKE_NVIDIA_SMI_SCRIPT = join(here, 'fake-nvidia-smi.sh');

/** Scenarios that make the fake fail the way a broken host does (see the script for the exit codes). */
export const NVIDIA_SMI_ERROR_SCENARIOS = [
  'driver-not-loaded',
  'no-devices-found',
  'nvml-driver-library-mismatch',
  'nvml-unknown-error',
  'command-not-found',
] as const;

/** Written into the scenario file at install time: a consumer GeForce under load, with processes and a fan. */
export const DEFAULT_NVIDIA_SMI_SCENARIO = 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load';

interface DerivedIndexEntry {
  file: string;
  derived_command: string;
  source_capture: string;
  state: string;
}

/** Where each scenario file comes from, relative to the fixtures dir. */
function scenarioSources(fixturesDir: string): Map<string, Record<string, string>> {
  const derivedDir = join(fixturesDir, 'csv', 'derived-from-captures');
  const index = JSON.parse(readFileSync(join(derivedDir, 'index.json'), 'utf8')) as DerivedIndexEntry[];
  const scenarios = new Map<string, Record<string, string>>();
  for (const e of index) {
    const path = join(derivedDir, e.file);
    if (!existsSync(path)) continue; // index.json lists more files than were copied
    const kind = /--query-gpu=/.test(e.derived_command) ? 'gpu' : 'apps';
    const format = /--format=(\S+)/.exec(e.derived_command)?.[1];
    const target = format === 'csv' ? `${kind}.csv` : format === 'csv,nounits' ? `${kind}.nounits.csv` : undefined;
    if (target === undefined) continue; // the script derives noheader itself, as nvidia-smi does
    const name = `${e.source_capture}__${e.state}`;
    const files = scenarios.get(name) ?? {};
    const split = join(fixturesDir, 'nvidia_gpu_exporter-split', e.source_capture);
    // GPU answers come from the capture's query of every field (the derived files hold only 19 of them);
    // the script strips the units itself for nounits.
    if (kind === 'gpu') files['gpu.csv'] = join(split, `${e.state}__query-gpu-csv-what-the-exporter-parses.txt`);
    else files[target] = path;
    files['version.txt'] = join(split, 'capabilities__version.txt');
    files['help-query-gpu.txt'] = join(split, 'capabilities__help-query-gpu.txt');
    files['help-query-compute-apps.txt'] = join(split, 'capabilities__help-query-compute-apps.txt');
    files['list-gpus.txt'] = join(split, 'capabilities__list-l.txt');
    files['default-table.txt'] = join(split, `${e.state}__nvidia-smi-default-table.txt`);
    scenarios.set(name, files);
  }
  return scenarios;
}

/**
 * Copy the script to `<binDir>/nvidia-smi` (mode 755) and the data to `<binDir>/nvidia-smi-data/`, and select
 * DEFAULT_NVIDIA_SMI_SCENARIO. Returns the capture scenario names available.
 */
export function installFakeNvidiaSmi(binDir: string, fixturesDir: string = NVIDIA_SMI_FIXTURES_DIR): string[] {
  const dataDir = join(binDir, 'nvidia-smi-data');
  mkdirSync(join(dataDir, 'errors'), { recursive: true });
  const scenarios = scenarioSources(fixturesDir);
  for (const [name, files] of scenarios) {
    const dir = join(dataDir, 'scenarios', name);
    mkdirSync(dir, { recursive: true });
    for (const [target, source] of Object.entries(files)) {
      if (existsSync(source)) copyFileSync(source, join(dir, target));
    }
  }
  for (const f of [
    'driver-not-loaded.stdout.txt',
    'no-devices-found.txt',
    'nvml-driver-library-mismatch.txt',
    'nvml-unknown-error.txt',
    'command-not-found.dash-sh-c.stderr.txt',
  ]) {
    copyFileSync(join(fixturesDir, 'errors', f), join(dataDir, 'errors', f));
  }
  const bin = join(binDir, 'nvidia-smi');
  copyFileSync(FAKE_NVIDIA_SMI_SCRIPT, bin);
  chmodSync(bin, 0o755);
  setNvidiaSmiScenario(binDir, DEFAULT_NVIDIA_SMI_SCENARIO);
  return [...scenarios.keys()].sort();
}

/** Select what the installed fake prints: a capture scenario (`<capture>__<state>`) or an error scenario. */
export function setNvidiaSmiScenario(binDir: string, scenario: string): void {
  const isError = (NVIDIA_SMI_ERROR_SCENARIOS as readonly string[]).includes(scenario);
  if (!isError && !existsSync(join(binDir, 'nvidia-smi-data', 'scenarios', scenario))) {
    throw new Error(`fake nvidia-smi: unknown scenario '${scenario}' (installed in ${binDir}?)`);
  }
  writeFileSync(join(binDir, 'nvidia-smi.scenario'), `${scenario}\n`);
}

/**
 * Make the installed fake behave like an older driver that does not know these field names: they vanish
 * from its --help-query-* and a query naming one is refused with nvidia-smi's words. An empty list undoes it.
 */
export function setNvidiaSmiUnknownFields(binDir: string, fields: readonly string[]): void {
  writeFileSync(join(binDir, 'nvidia-smi.unknown-fields'), fields.map((f) => `${f}\n`).join(''));
}

/**
 * A fake nvidia-smi in a directory of its own, for one test file: test files run in parallel, and a
 * scenario set on a shared directory would change what another file's server reads. Pass the
 * returned path as NVIDIA_SMI_PATH (the sshd runs on this machine, so the path works over ssh too).
 */
export function privateNvidiaSmi(scenario: string = DEFAULT_NVIDIA_SMI_SCENARIO): {
  path: string;
  binDir: string;
  setScenario: (s: string) => void;
  setUnknownFields: (fields: readonly string[]) => void;
} {
  const binDir = mkdtempSync(join(tmpdir(), 'ght-nvidia-smi-'));
  installFakeNvidiaSmi(binDir);
  setNvidiaSmiScenario(binDir, scenario);
  return {
    path: join(binDir, 'nvidia-smi'),
    binDir,
    setScenario: (s) => setNvidiaSmiScenario(binDir, s),
    setUnknownFields: (f) => setNvidiaSmiUnknownFields(binDir, f),
  };
}

/**
 * A host with `gpus` GPUs and `processesPerGpu` compute processes on each, built from one real
 * single-GPU capture (no real capture of a many-GPU host exists here): the capture's GPU row repeated
 * with its index, uuid, pci.bus_id and count set per GPU, and its process rows repeated on every GPU
 * with new pids. Every other value, the header and the driver's --help-query-* are the capture's own.
 * Returns the scenario name, installed in `binDir` (a directory installFakeNvidiaSmi filled).
 */
export function addManyGpuScenario(
  binDir: string,
  { capture, state, gpus, processesPerGpu }: { capture: string; state: 'idle' | 'load'; gpus: number; processesPerGpu: number },
): string {
  const scenarios = join(binDir, 'nvidia-smi-data', 'scenarios');
  const base = join(scenarios, `${capture}__${state}`);
  const name = `${capture}__${state}__${gpus}-gpus-${processesPerGpu}-processes`;
  const dir = join(scenarios, name);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(base)) copyFileSync(join(base, f), join(dir, f));
  const uuidOf = (i: number) => `GPU-00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;

  const [header, row] = readFileSync(join(base, 'gpu.csv'), 'utf8').trimEnd().split('\n');
  const columns = header.split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
  const cells = row.split(', ');
  const rows = Array.from({ length: gpus }, (_, i) => {
    const set: Record<string, string> = {
      index: String(i),
      uuid: uuidOf(i),
      count: String(gpus),
      'pci.bus_id': `00000000:${(0x10 + i).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
    };
    return columns.map((c, j) => set[c] ?? cells[j]).join(', ');
  });
  writeFileSync(join(dir, 'gpu.csv'), `${header}\n${rows.join('\n')}\n`);

  for (const f of ['apps.csv', 'apps.nounits.csv']) {
    if (!existsSync(join(base, f))) continue;
    const [appsHeader, ...apps] = readFileSync(join(base, f), 'utf8').trimEnd().split('\n');
    if (apps.length === 0) throw new Error(`fake nvidia-smi: ${capture} ${state} lists no processes to repeat`);
    const out: string[] = [];
    for (let g = 0; g < gpus; g++) {
      for (let p = 0; p < processesPerGpu; p++) {
        const [, , ...rest] = apps[p % apps.length].split(', ');
        out.push([uuidOf(g), String(20_000 + g * 100 + p), ...rest].join(', '));
      }
    }
    writeFileSync(join(dir, f), `${appsHeader}\n${out.join('\n')}\n`);
  }
  return name;
}
