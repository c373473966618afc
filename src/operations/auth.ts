import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, Scope } from '../config/config.types.js';
import { CallRecorder, restArgs } from './call-recorder.js';
import { AppError } from '../common/errors.js';
import { OPERATION_KEY, PUBLIC_KEY, type OperationDef } from './operation.js';

/** Who is calling: the key's name and scopes, plus Open WebUI's user headers when it forwards them. */
export interface Caller {
  keyName: string;
  scopes: ReadonlySet<Scope>;
  user?: { name?: string; id?: string; email?: string };
}

declare module 'express' {
  interface Request {
    caller?: Caller;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

type ConfiguredKey = { name: string; digest: Buffer; scopes: ReadonlySet<Scope> };

@Injectable()
export class AuthService {
  private readonly keys: ConfiguredKey[];
  /**
   * Presented keys already found valid, so a client's every call does not hash its key again (a sha256
   * and one compare per configured key, about 10 µs of each call). Only valid keys get in, so it never
   * holds more entries than there are configured keys, and a wrong key always takes the full path. The
   * keys are fixed for the life of the process (a new configuration is a new server), so an entry never
   * goes stale.
   */
  private readonly accepted = new Map<string, ConfiguredKey>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = config.keys.map((k) => ({ name: k.name, digest: Buffer.from(k.sha256, 'hex'), scopes: new Set(k.scopes) }));
  }

  /** True when no key is configured: the server is loopback-only (enforced at start-up) and open. */
  get open(): boolean {
    return this.keys.length === 0;
  }

  /**
   * Resolves an Authorization header to a caller, or throws 401. A key not seen before is compared as a
   * sha256 digest with timingSafeEqual against every configured key, so timing tells nothing about
   * which key or how much of it matched; the cache of accepted keys answers only for a key presented
   * whole and already found valid.
   */
  authenticate(authorization: string | undefined, headers: Record<string, unknown> = {}): Caller {
    const user = openWebUiUser(headers);
    if (this.open) return { keyName: 'anonymous', scopes: new Set<Scope>(['read', 'write', 'shell']), user };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new AppError(401, 'UNAUTHORIZED', 'An API key is required: send the header "Authorization: Bearer <key>".');
    const presented = match[1];
    let found = this.accepted.get(presented);
    if (!found) {
      const digest = sha256(presented);
      for (const key of this.keys) if (timingSafeEqual(key.digest, digest)) found = key;
      if (!found) throw new AppError(401, 'UNAUTHORIZED', 'The API key is not valid; check the bearer key configured in the client.');
      this.accepted.set(presented, found);
    }
    return { keyName: found.name, scopes: found.scopes, user };
  }

  /** Throws 403 when the caller lacks the scope an operation needs. */
  authorize(caller: Caller, op: Pick<OperationDef, 'id' | 'scope'>): void {
    if (!caller.scopes.has(op.scope)) {
      throw new AppError(
        403,
        'FORBIDDEN',
        `The API key "${caller.keyName}" lacks the "${op.scope}" scope that ${op.id} needs; use a key with that scope.`,
      );
    }
  }
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.length > 0 ? s.slice(0, 200) : undefined;
}

function openWebUiUser(headers: Record<string, unknown>): Caller['user'] {
  const name = header(headers, 'x-openwebui-user-name');
  const id = header(headers, 'x-openwebui-user-id');
  const email = header(headers, 'x-openwebui-user-email');
  return name || id || email ? { name, id, email } : undefined;
}

/**
 * REST guard: public routes pass; operation routes need a key with the operation's scope. A scope
 * refusal is recorded here (metrics, audit), since the guard runs before the operation interceptor.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
    private readonly calls: CallRecorder,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    if (this.reflector.get<boolean>(PUBLIC_KEY, handler) || this.reflector.get<boolean>(PUBLIC_KEY, context.getClass())) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const caller = this.auth.authenticate(req.headers.authorization, req.headers);
    req.caller = caller;
    const op = this.reflector.get<OperationDef | undefined>(OPERATION_KEY, handler);
    if (op) {
      const started = performance.now();
      try {
        this.auth.authorize(caller, op);
      } catch (err) {
        const { status, code } = err as AppError;
        this.calls.record(op, { caller, args: restArgs(req), status, code, startedAt: started, surface: 'rest' });
        throw err;
      }
    } else if (!caller.scopes.has('read')) throw new AppError(403, 'FORBIDDEN', 'This key lacks the "read" scope.');
    return true;
  }
}
