/**
 * The HTTP agents the Ollama client sends through: keep-alive connections that fail with a recognisable
 * error when they do not connect in time, or, for an ssh host, forwarded channels on its SSH connection.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ConnectTimeoutError } from './ollama-errors.js';

export interface OllamaTunnel {
  /** The SSH connection, "user@host:port", for messages. */
  via: string;
  /** A connected stream to host:port as the SSH host sees them; `timeoutMs` bounds opening it. */
  open(host: string, port: number, options: { timeoutMs: number }): Promise<Duplex>;
}

/**
 * Node's agents have no connect timeout (a socket timeout only starts once connected, and axios' own
 * timeout cannot tell "no TCP connection" from "no answer"). This agent destroys a socket that has not
 * connected in time with an error we can recognise. Reused keep-alive sockets skip this entirely.
 */
export function withConnectTimeout<T extends http.Agent>(agent: T, timeoutMs: number): T {
  const original = agent.createConnection.bind(agent) as (
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ) => Duplex | null | undefined;
  agent.createConnection = (options, callback) => {
    const socket = original(options, callback);
    if (socket) {
      const timer = setTimeout(() => {
        socket.destroy(new ConnectTimeoutError(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    }
    return socket;
  };
  return agent;
}

/**
 * A keep-alive agent whose connections are the tunnel's streams: one forwarded channel per HTTP
 * connection, pooled and reused like sockets. The Agent accepts a connection handed to
 * createConnection's callback later instead of returned at once.
 */
export function tunnelAgent(tunnel: OllamaTunnel, timeoutMs: number): http.Agent {
  const agent = new http.Agent({ keepAlive: true });
  agent.createConnection = ((options: http.ClientRequestArgs, callback: (err: Error | null, stream?: Duplex) => void) => {
    const host = (options.hostname ?? options.host ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
    tunnel.open(host, Number(options.port) || 80, { timeoutMs }).then(
      (stream) => callback(null, stream),
      (err: Error) => callback(err),
    );
    return undefined;
  }) as unknown as http.Agent['createConnection'];
  return agent;
}
