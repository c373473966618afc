/**
 * A TCP proxy on 127.0.0.1 that can wedge the connections going through it: freeze() stops forwarding
 * in both directions on every live connection without closing anything (no RST, no FIN), as a suspended
 * VM, a dropped Wi-Fi or a NAT that forgot the flow would. New connections made after a freeze pass
 * normally, so a client that notices the wedge and dials again gets through.
 */
import net from 'node:net';

export interface FreezableProxy {
  host: string;
  port: number;
  /** Freeze every connection open now; returns how many were frozen. */
  freeze(): number;
  /** Connections accepted so far (a reconnect shows up as one more). */
  accepted(): number;
  /** Connections open now and still forwarding. */
  live(): number;
  /** Destroy every connection (frozen ones too) and stop listening. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  frozen: boolean;
}

export async function startFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;

  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, upstream, frozen: false };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (d) => {
        // A frozen pair is paused, so nothing should arrive; drop anything already read, as a dead path would.
        if (!pair.frozen) to.write(d);
      });
      from.on('end', () => {
        if (!pair.frozen) to.end();
      });
      from.on('close', () => {
        if (!pair.frozen) {
          to.destroy();
          pairs.delete(pair);
        }
      });
      from.on('error', () => {});
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    freeze() {
      let n = 0;
      for (const p of pairs) {
        if (p.frozen) continue;
        p.frozen = true;
        // Stop reading both ways: what each end writes piles up in the kernel buffers and is never
        // delivered, and neither end hears anything more, not even a close.
        p.client.pause();
        p.upstream.pause();
        n++;
      }
      return n;
    },
    accepted: () => accepted,
    live: () => [...pairs].filter((p) => !p.frozen && !p.client.destroyed).length,
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Wait until the frozen path has been silent for longer than SshTransport's RECENT_ANSWER_MS (0.5 s):
 * a command goes to an idle warm shell without asking the host first when the host sent something more
 * recently, so only a call after that finds the dead path before anything is sent (and is run again on
 * a new connection). A call inside the window is tested on its own.
 */
export function pathSilentForAWhile(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 600));
}
