/**
 * host_resources: one remote command (one SSH round trip) reading hostname, uptime, load, CPU count, memory
 * and disks of a Linux host, and the pure parser for its output.
 *
 * Each part runs in its own marked section with its exit code, with stderr folded in (2>&1), so a failing
 * part is quoted in the error instead of silently missing. Sizes: memory in MiB (integers), disks in GiB
 * with two decimals (df -k gives KiB); the `_mb`/`_gb` suffixes name the unit, as in every other result.
 */
import { AppError } from '../../common/errors.js';
import { clip } from '../../common/text.js';
import { framedScript, parseFramedSections, type FramedPart, type FramedSection } from '../../infra/framed-sections.js';
import { shellQuote } from '../../infra/shell-quote.js';
import type { DiskInfo, HostResourcesResult } from './dto/hosts.dto.js';

/** What the host reports; the response DTO adds the configured host name. */
export type HostResources = Omit<HostResourcesResult, 'host'>;

/** Pseudo and image file systems that say nothing about free space (container layers, snaps, RAM). */
export const EXCLUDED_FS_TYPES = ['tmpfs', 'devtmpfs', 'overlay', 'squashfs'] as const;

/** The parts, each with its stderr folded into its section so a failing one is quoted. */
const PARTS: readonly FramedPart[] = [
  // uname -n is the kernel's host name, the same as hostname(1), and is in coreutils on every Linux.
  { name: 'hostname', command: 'uname -n' },
  { name: 'uptime', command: 'cat /proc/uptime' },
  { name: 'loadavg', command: 'cat /proc/loadavg' },
  // nproc counts the CPUs this process may use (affinity/cpusets); getconf is the fallback without coreutils.
  { name: 'cpus', command: 'nproc 2>/dev/null || getconf _NPROCESSORS_ONLN' },
  { name: 'meminfo', command: 'cat /proc/meminfo' },
  // -P: one line per file system, never wrapped; -k: 1024-byte blocks, whatever BLOCKSIZE says.
  { name: 'df', command: `df -P -k ${EXCLUDED_FS_TYPES.map((t) => `-x ${t}`).join(' ')}` },
];
const PART_NAMES = PARTS.map((p) => p.name);

/**
 * The command for the host's shell. Wrapped in `sh -c` because the exec goes through the account's login
 * shell, which may not be a POSIX one (fish, tcsh).
 */
export const HOST_RESOURCES_COMMAND = `sh -c ${shellQuote(`LC_ALL=C; export LC_ALL; ${framedScript(PARTS)}`)}`;

function fail(host: string, what: string, section: FramedSection | undefined, advice: string): AppError {
  const line = section?.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  const said = section === undefined ? 'no output' : line ? `"${clip(line, 300)}"` : 'nothing';
  const code = section?.exitCode ? ` (exit code ${section.exitCode})` : '';
  return new AppError(503, 'HOST_ERROR', `Reading ${what} on host '${host}' failed with ${said}${code}; ${advice}.`);
}

const LINUX = 'host_resources needs a Linux host with /proc and the coreutils df, uname and nproc';

function need(host: string, all: Map<string, FramedSection>, name: string, what: string): string {
  const s = all.get(name);
  if (s === undefined || s.exitCode !== 0 || s.stdout.trim() === '') throw fail(host, what, s, LINUX);
  return s.stdout;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const kibToGib = (kib: number) => round2(kib / 1024 / 1024);
const kibToMib = (kib: number) => Math.round(kib / 1024);

const DIGITS = /^\d+$/;
const PERCENT = /^(?:\d+%|-)$/;

/**
 * One `df -P -k` data line: file system (may hold spaces), three numbers, the use percentage, then the
 * mount (may hold spaces); the first place in the line where that sequence of words starts decides, as
 * with a lazy regex. Split into words by hand: the regex /^(.+?)\s+(\d+)\s+.../ is quadratic in a run of
 * spaces, and the line comes from the host.
 */
function dfLine(line: string): [string, string, string, string, string, string] | null {
  const words: Array<{ text: string; at: number }> = [];
  for (const m of line.matchAll(/\S+/g)) words.push({ text: m[0], at: m.index });
  for (let i = 1; i + 4 < words.length; i++) {
    if (DIGITS.test(words[i].text) && DIGITS.test(words[i + 1].text) && DIGITS.test(words[i + 2].text) && PERCENT.test(words[i + 3].text)) {
      return [
        line.slice(0, words[i].at).trimEnd(),
        words[i].text,
        words[i + 1].text,
        words[i + 2].text,
        words[i + 3].text,
        line.slice(words[i + 4].at),
      ];
    }
  }
  return null;
}

export function parseDf(text: string): DiskInfo[] {
  const disks: DiskInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = dfLine(line);
    // Not a data line: the header, or a complaint such as "df: /mnt/nfs: Stale file handle" (df still lists the rest).
    if (!m) continue;
    const [filesystem, size, used, avail, pct, mount] = m;
    const usedK = Number(used);
    const availK = Number(avail);
    // df prints "-" when the size is 0; compute it the way df does (rounded up) so the field stays a number.
    const usePercent = pct === '-' ? (usedK + availK === 0 ? 0 : Math.ceil((usedK * 100) / (usedK + availK))) : Number(pct.slice(0, -1));
    disks.push({
      mount: mount.trimEnd(),
      filesystem,
      size_gb: kibToGib(Number(size)),
      used_gb: kibToGib(usedK),
      available_gb: kibToGib(availK),
      use_percent: usePercent,
    });
  }
  return disks;
}

export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) values.set(m[1], Number(m[2]));
  }
  return values;
}

/** Parse the output of HOST_RESOURCES_COMMAND. Throws AppError(503, 'HOST_ERROR') naming the part that failed. */
export function parseHostResources(host: string, stdout: string): HostResources {
  const all = parseFramedSections(PART_NAMES, stdout);
  if (all.size === 0) {
    const line = stdout
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '');
    throw new AppError(
      503,
      'HOST_ERROR',
      `Reading resources on host '${host}' gave ${line ? `unexpected output "${clip(line, 300)}"` : 'no output'}; ${LINUX}.`,
    );
  }

  const hostname = need(host, all, 'hostname', 'the host name').trim();

  const uptimeText = need(host, all, 'uptime', '/proc/uptime').trim();
  const uptime = Number(uptimeText.split(/\s+/)[0]);
  if (!Number.isFinite(uptime)) throw fail(host, '/proc/uptime', all.get('uptime'), LINUX);

  const loadText = need(host, all, 'loadavg', '/proc/loadavg').trim().split(/\s+/);
  const load = loadText.slice(0, 3).map(Number);
  if (load.length !== 3 || load.some((n) => !Number.isFinite(n))) {
    throw fail(host, '/proc/loadavg', all.get('loadavg'), LINUX);
  }

  const cpuCount = Number(need(host, all, 'cpus', 'the CPU count').trim());
  if (!Number.isInteger(cpuCount) || cpuCount < 1) throw fail(host, 'the CPU count', all.get('cpus'), LINUX);

  const mem = parseMeminfo(need(host, all, 'meminfo', '/proc/meminfo'));
  const total = mem.get('MemTotal');
  // MemAvailable exists since Linux 3.14; before that, free + buffers + page cache is the usual estimate.
  const available =
    mem.get('MemAvailable') ??
    (mem.has('MemFree') ? (mem.get('MemFree') ?? 0) + (mem.get('Buffers') ?? 0) + (mem.get('Cached') ?? 0) : undefined);
  if (total === undefined || available === undefined) throw fail(host, '/proc/meminfo', all.get('meminfo'), LINUX);

  // df exits 1 when one file system could not be read but still lists the others; only no data at all fails.
  const dfSection = all.get('df');
  const disks = dfSection ? parseDf(dfSection.stdout) : [];
  if (disks.length === 0) throw fail(host, 'disk usage (df)', dfSection, LINUX);

  return {
    hostname,
    uptime_seconds: Math.floor(uptime),
    load_average: [load[0], load[1], load[2]],
    cpu_count: cpuCount,
    memory: {
      total_mb: kibToMib(total),
      used_mb: kibToMib(total - available),
      available_mb: kibToMib(available),
    },
    disks,
  };
}
