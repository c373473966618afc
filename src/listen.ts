import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError } from './config/config-error.js';
import type { AppConfig } from './config/config.types.js';
import { bracketIpv6 } from './config/host-names.js';

/**
 * Binds the HTTP port and returns the address the socket really listens on. A failed bind becomes one
 * line naming the address and the settings to change, before anything has said the server started.
 */
export async function listenOrExplain(app: NestExpressApplication, config: AppConfig): Promise<AddressInfo> {
  try {
    await app.listen(config.port, config.bind_address);
  } catch (e) {
    throw new ConfigError(listenFailure(e as NodeJS.ErrnoException, config));
  }
  return app.getHttpServer().address() as AddressInfo;
}

function listenFailure(e: NodeJS.ErrnoException, { port, bind_address: bind }: AppConfig): string {
  const at = `${bracketIpv6(bind)}:${port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${at}: the port is already in use (another gpu-host-tools still running? \`ss -ltnp 'sport = :${port}'\` shows the process); stop it, or choose another PORT (or BIND_ADDRESS)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${at}: ${bind} is not an address of this machine; set BIND_ADDRESS to one of its addresses, 127.0.0.1 or 0.0.0.0`;
    case 'EACCES':
      return `cannot listen on ${at}: this account may not use port ${port}; choose a PORT above 1023 (or put a reverse proxy in front)`;
    default:
      return `cannot listen on ${at}: ${e.code ?? e.message}; check BIND_ADDRESS and PORT`;
  }
}

/** The start-up line's URL: the address the socket is bound to, not a loopback stand-in for 0.0.0.0. */
export function listeningUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Whether the socket accepts connections on every interface (0.0.0.0 or ::). */
export const isWildcard = (address: AddressInfo) => address.address === '0.0.0.0' || address.address === '::';
