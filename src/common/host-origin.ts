import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/config.types.js';
import { bracketIpv6, isLoopback, parseHostAndPort, type HostAndPort } from '../config/host-names.js';
import { AppError, errorBody } from './errors.js';

/** What the check reads from a request. */
export interface HostOriginRequest {
  method: string;
  host?: string;
  origin?: string;
}

/** Methods that never change anything here: a foreign page may send them (it cannot read the answer). */
const READ_ONLY_METHODS = new Set(['GET', 'HEAD']);

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Bind addresses that name every interface rather than a host someone could type. */
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/**
 * The DNS-rebinding and CSRF rule for every route.
 *
 * Host: a page that rebinds its own name to 127.0.0.1 reaches a loopback server as same-origin, and
 * its requests carry that name as Host. Without keys nothing else stops it, so only loopback names,
 * the bind address and ALLOWED_HOSTS pass. With keys the key is the boundary (the page has none), so
 * any Host passes unless ALLOWED_HOSTS narrows it.
 *
 * Origin: browsers send it on every POST (and on cross-origin requests), so a foreign one on a
 * request that can change something is a page driving the user's browser, with or without keys.
 */
export class HostOriginPolicy {
  private readonly allowedHosts: HostAndPort[];
  private readonly corsOrigins: Set<string>;
  private readonly bindAddress?: string;
  private readonly anyHost: boolean;

  constructor(config: Pick<AppConfig, 'keys' | 'allowed_hosts' | 'cors_origins' | 'bind_address'>) {
    // load-config has refused entries that do not parse.
    this.allowedHosts = config.allowed_hosts.map((h) => parseHostAndPort(h)).filter((h): h is HostAndPort => h !== undefined);
    this.corsOrigins = new Set(config.cors_origins);
    const bind = parseHostAndPort(bracketIpv6(config.bind_address))?.hostname;
    this.bindAddress = bind && !UNSPECIFIED.has(bind) ? bind : undefined;
    this.anyHost = config.keys.length > 0 && config.allowed_hosts.length === 0;
  }

  /** The refusal for this request, or undefined when it may go on. */
  check(req: HostOriginRequest): AppError | undefined {
    const host = req.host ?? '';
    const parsed = parseHostAndPort(host);
    // RFC 9112 asks for a 400 here; it also keeps such values away from the MCP transport, which
    // would turn them into a URL.
    if (req.host !== undefined && !parsed) {
      return new AppError(
        400,
        'VALIDATION_FAILED',
        `The Host header "${printable(host)}" is not a host name, IPv4 address or [IPv6] address with an optional :port; send the name the server is reached by.`,
      );
    }
    if (!this.anyHost && !(parsed && this.hostAllowed(parsed))) {
      return new AppError(
        403,
        'HOST_NOT_ALLOWED',
        `The Host header "${printable(host)}" is not a name this server accepts (DNS-rebinding guard); if clients reach the server by that name, add it to ALLOWED_HOSTS (server.allowed_hosts).`,
      );
    }
    const origin = req.origin;
    if (origin !== undefined && !READ_ONLY_METHODS.has(req.method.toUpperCase()) && !this.originAllowed(origin, parsed)) {
      return new AppError(
        403,
        'ORIGIN_NOT_ALLOWED',
        `The Origin header "${printable(origin)}" is neither this server's own nor an allowed one, so a ${req.method.toUpperCase()} from it is refused (CSRF guard); if a web page at that origin should call the server, add it to CORS_ORIGINS (server.cors_origins).`,
      );
    }
    return undefined;
  }

  private hostAllowed({ hostname, port }: HostAndPort): boolean {
    if (isLoopback(hostname) || hostname === this.bindAddress) return true;
    return this.allowedHosts.some((a) => a.hostname === hostname && (a.port === undefined || a.port === port));
  }

  /**
   * CORS_ORIGINS match exactly (as the CORS middleware compares them). The server's own origin is the
   * Host the request was sent to; http and https both count, since a TLS proxy in front shows https
   * to the browser while this server speaks http.
   */
  private originAllowed(origin: string, host: HostAndPort | undefined): boolean {
    if (this.corsOrigins.has(origin)) return true;
    if (!host) return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const defaultPort = DEFAULT_PORTS[url.protocol];
    if (defaultPort === undefined || url.username || url.password || (url.pathname !== '/' && url.pathname !== '')) return false;
    const own = parseHostAndPort(url.host);
    return own !== undefined && own.hostname === host.hostname && (own.port ?? defaultPort) === (host.port ?? defaultPort);
  }
}

/**
 * Header values are echoed in the message: control characters and length are kept in check, and the
 * cut is marked with ASCII dots rather than clip()'s `…`, so the message stays plain ASCII.
 */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}...` : clean;
}

/** Express middleware installed before every route (operations, /mcp, /docs, the spec, 404s). */
export function hostOriginMiddleware(config: AppConfig) {
  const policy = new HostOriginPolicy(config);
  return (req: Request, res: Response, next: NextFunction): void => {
    const refusal = policy.check({ method: req.method, host: req.headers.host, origin: req.headers.origin });
    if (refusal) res.status(refusal.status).json(errorBody(refusal));
    else next();
  };
}
