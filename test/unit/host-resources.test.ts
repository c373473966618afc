import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HOST_RESOURCES_COMMAND, parseDf, parseHostResources } from '../../src/modules/hosts/host-resources.js';
import { appErrorOf } from '../support/errors.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'host-resources');

const errorOf = appErrorOf;

describe('HOST_RESOURCES_COMMAND', () => {
  it('is one sh -c command with LC_ALL=C and df without the pseudo file systems', () => {
    expect(HOST_RESOURCES_COMMAND.startsWith("sh -c '")).toBe(true);
    expect(HOST_RESOURCES_COMMAND).toContain('LC_ALL=C; export LC_ALL');
    expect(HOST_RESOURCES_COMMAND).toContain('df -P -k -x tmpfs -x devtmpfs -x overlay -x squashfs');
    for (const f of ['/proc/uptime', '/proc/loadavg', '/proc/meminfo', 'nproc', '_NPROCESSORS_ONLN', 'uname -n']) {
      expect(HOST_RESOURCES_COMMAND).toContain(f);
    }
  });
});

describe('parseHostResources on the captured Debian 12 output', () => {
  const text = readFileSync(join(FIX, 'debian12-container.txt'), 'utf8');

  it('reads every field with the values of the capture', () => {
    expect(parseHostResources('whisper', text)).toEqual({
      hostname: 'vm',
      uptime_seconds: 687, // "687.00 1119.23"
      load_average: [0.77, 0.63, 0.37],
      cpu_count: 2,
      memory: {
        total_mb: 24105, // MemTotal 24683620 kB
        used_mb: 551, // MemTotal - MemAvailable = 564408 kB
        available_mb: 23554, // MemAvailable 24119212 kB
      },
      disks: [
        // "/dev/vda  264212084 23061408  83329504  22% /"
        { mount: '/', filesystem: '/dev/vda', size_gb: 251.97, used_gb: 21.99, available_gb: 79.47, use_percent: 22 },
      ],
    });
  });
});

describe('parseHostResources on this machine, live', () => {
  it('parses the command run through sh', () => {
    const r = spawnSync('sh', ['-c', HOST_RESOURCES_COMMAND], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const res = parseHostResources('local', r.stdout);
    expect(res.hostname).toBe(hostname());
    const nproc = spawnSync('sh', ['-c', 'nproc'], { encoding: 'utf8' }).stdout.trim();
    expect(res.cpu_count).toBe(Number(nproc));
    expect(res.uptime_seconds).toBeGreaterThan(0);
    expect(res.load_average).toHaveLength(3);
    expect(res.memory.total_mb).toBe(Math.round(totalmem() / 1024 / 1024));
    expect(res.memory.used_mb + res.memory.available_mb).toBeGreaterThanOrEqual(res.memory.total_mb - 1);
    expect(res.memory.used_mb + res.memory.available_mb).toBeLessThanOrEqual(res.memory.total_mb + 1);
    expect(res.disks.map((d) => d.mount)).toContain('/');
    for (const d of res.disks) {
      expect(d.size_gb).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(Math.round(d.size_gb * 100))).toBe(true);
      expect(d.use_percent).toBeGreaterThanOrEqual(0);
      expect(d.use_percent).toBeLessThanOrEqual(100);
    }
    // The pseudo file systems stay out.
    const df = spawnSync('sh', ['-c', 'df -P -k -T'], { encoding: 'utf8' }).stdout;
    const tmpfsMounts = df
      .split('\n')
      .filter((l) => /^\S+\s+(tmpfs|devtmpfs)\s/.test(l))
      .map((l) => l.split(/\s+/).slice(6).join(' '));
    for (const m of tmpfsMounts) expect(res.disks.map((d) => d.mount)).not.toContain(m);
  });
});

describe('parseDf', () => {
  it('keeps spaces in mount points and file system names (synthetic lines: no such mount on the capture machine)', () => {
    const disks = parseDf(
      'Filesystem     1024-blocks     Used Available Capacity Mounted on\n' +
        '/dev/sdb1        976762584 488381292 488381292      50% /mnt/My Models\n' +
        '//nas/share x    1048576   0   1048576       0% /media/nas share\n' +
        'df: /mnt/stale: Stale file handle\n',
    );
    expect(disks).toEqual([
      { mount: '/mnt/My Models', filesystem: '/dev/sdb1', size_gb: 931.51, used_gb: 465.76, available_gb: 465.76, use_percent: 50 },
      { mount: '/media/nas share', filesystem: '//nas/share x', size_gb: 1, used_gb: 0, available_gb: 1, use_percent: 0 },
    ]);
  });

  it('computes the percentage df leaves as "-"', () => {
    const [d] = parseDf('none 0 0 0 - /sys/fs/x\n');
    expect(d.use_percent).toBe(0);
  });
});

describe('failures', () => {
  it('a host without /proc (not Linux; synthetic section in the captured output): names the file and quotes the error', () => {
    const text = readFileSync(join(FIX, 'debian12-container.txt'), 'utf8').replace(
      /(@@gpu-host-tools:begin:meminfo@@\n)[\s\S]*?\n(@@gpu-host-tools:end:meminfo:)0@@/,
      '$1cat: /proc/meminfo: No such file or directory\n\n$21@@',
    );
    const err = errorOf(() => parseHostResources('whisper', text));
    expect(err.status).toBe(503);
    expect(err.code).toBe('HOST_ERROR');
    expect(err.message).toBe(
      `Reading /proc/meminfo on host 'whisper' failed with "cat: /proc/meminfo: No such file or directory" (exit code 1); host_resources needs a Linux host with /proc and the coreutils df, uname and nproc.`,
    );
  });

  it('output without markers (e.g. a shell that did not run the script)', () => {
    const err = errorOf(() => parseHostResources('whisper', 'fish: Unknown command: sh\n'));
    expect(err.code).toBe('HOST_ERROR');
    expect(err.message).toContain(`"fish: Unknown command: sh"`);
  });
});
