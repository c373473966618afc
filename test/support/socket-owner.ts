/**
 * Which processes hold the client end of a TCP connection, read from /proc (Linux). The tunnel tests use
 * it to prove who dialled the fake Ollama: through the tunnel it is sshd on the "GPU host", never the
 * process that made the HTTP request.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface SocketOwner {
  pid: number;
  /** The process name (/proc/<pid>/comm), e.g. "sshd" or "node". */
  comm: string;
}

/** Socket inodes of connections from local port `clientPort` to remote port `serverPort` (IPv4 and IPv6). */
function inodesOf(clientPort: number, serverPort: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const localPort = parseInt(f[1]!.split(':')[1]!, 16);
      const remotePort = parseInt(f[2]!.split(':')[1]!, 16);
      if (localPort === clientPort && remotePort === serverPort && f[9] !== '0') inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** The processes that have the connection clientPort → serverPort open (a forked sshd may share it). */
export function socketOwners(clientPort: number, serverPort: number): SocketOwner[] {
  const targets = new Set([...inodesOf(clientPort, serverPort)].map((i) => `socket:[${i}]`));
  if (targets.size === 0) return [];
  const owners: SocketOwner[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(link)) {
        let comm = '';
        try {
          comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
        } catch {
          /* exited meanwhile */
        }
        owners.push({ pid: Number(name), comm });
        break;
      }
    }
  }
  return owners;
}
