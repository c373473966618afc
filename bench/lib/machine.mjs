/** What the bench ran on, and how busy it was: the machine, the busiest processes, a process's RSS. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MiB } from './rows.mjs';

const execFileP = promisify(execFile);

export async function machine(repo) {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) osName = `${pretty} (${os.type()} ${os.release()} ${os.arch()})`;
  } catch {
    /* not Linux */
  }
  let openssh;
  try {
    const r = await execFileP('ssh', ['-V']);
    openssh = (r.stderr || r.stdout).trim();
  } catch (err) {
    openssh = (err.stderr ?? '').trim() || null;
  }
  const cpus = os.cpus();
  return {
    os: osName,
    cpu_model: cpus[0]?.model ?? null,
    cores: cpus.length,
    memory_total_mb: Math.round(os.totalmem() / MiB),
    node: process.version,
    openssh,
    ssh2: JSON.parse(readFileSync(path.join(repo, 'node_modules/ssh2/package.json'), 'utf8')).version,
  };
}

export async function busyProcesses() {
  try {
    const r = await execFileP('ps', ['-eo', 'pcpu,rss,args', '--sort=-pcpu', '--no-headers']);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .slice(0, 8)
      .map((l) => l.trim().slice(0, 160));
  } catch {
    return [];
  }
}

export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
