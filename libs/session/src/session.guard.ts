import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SessionStoreUnavailableError, UnsupportedContextError } from './errors';
import {
  IS_PUBLIC_KEY,
  type PublicRouteOptions,
  ROLES_KEY,
  SKIP_CSRF_KEY,
} from './session.decorators';
import type { ResolvedSessionOptions } from './session-options';
import { extractToken, type IncomingSessionRequest } from './session-request';
import { SESSION_OPTIONS } from './session.constants';
import { SessionService } from './session.service';
import type { ValidationResult } from './session.types';
import { safeEqual } from './token';
import { SessionSockets } from './websocket/session-sockets';

/**
 * The error a gateway sends back to the client: Nest's WsException when @nestjs/websockets is
 * installed (it is, in any app with a gateway), loaded lazily so HTTP-only apps need no package.
 */
function wsError(message: string): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WsException } = require('@nestjs/websockets') as {
    WsException: new (error: string) => Error;
  };
  return new WsException(message);
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Authenticates HTTP requests by session token (cookie, `x-session-id` header or bearer).
 * Missing or invalid → 401; missing role or CSRF token → 403; Redis down → 503.
 * WebSocket gateway messages are checked against the session their connection authenticated
 * with at the handshake (SessionSockets). Other context types (RPC) are refused with
 * UnsupportedContextError unless the handler is @Public(): a guard that cannot authenticate must
 * not wave a request through silently.
 */
/** What a route's decorators ask of the guard, read once per handler (metadata is static). */
interface RoutePolicy {
  publicRoute: Required<PublicRouteOptions> | undefined;
  skipCsrf: boolean;
  roles: string[] | undefined;
}

@Injectable()
export class SessionGuard implements CanActivate {
  private readonly policies = new WeakMap<object, WeakMap<object, RoutePolicy>>();

  constructor(
    private readonly sessions: SessionService,
    private readonly sockets: SessionSockets,
    private readonly reflector: Reflector,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  /**
   * Synchronous when the answer needs no I/O (a public route, no token, a local-cache hit): no
   * promise per request on the hot path. Only a cache miss waits for Redis.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.policyOf(context);
    const isPublic = policy.publicRoute !== undefined;
    if (context.getType() === 'ws') return this.canActivateSocket(context, policy);
    if (context.getType() !== 'http') {
      if (isPublic) return true;
      throw new UnsupportedContextError(
        context.getType(),
        `${context.getClass().name}.${context.getHandler().name}`,
      );
    }
    if (policy.publicRoute?.attachSession === false) return true;
    const request = context.switchToHttp().getRequest<IncomingSessionRequest>();

    const found = extractToken(request, this.options);
    if (!found) {
      if (isPublic) return true;
      throw new UnauthorizedException('No session');
    }
    const local = this.sessions.verifyLocally(found.token);
    if (local) return this.admit(request, found, local, policy);
    return this.verify(found.token).then((result) => this.admit(request, found, result, policy));
  }

  private admit(
    request: IncomingSessionRequest,
    found: NonNullable<ReturnType<typeof extractToken>>,
    result: ValidationResult,
    policy: RoutePolicy,
  ): boolean {
    const isPublic = policy.publicRoute !== undefined;
    if (!result.valid) {
      if (isPublic) return true;
      throw new UnauthorizedException('Invalid session');
    }
    request.session = result.session;
    request.sessionAuth = found.source;
    request.sessionToken = found.token;
    if (isPublic) return true;

    if (found.source === 'cookie' && this.needsCsrfCheck(request.method, policy)) {
      const presented = request.headers[this.options.csrf.headerName];
      if (typeof presented !== 'string' || !safeEqual(presented, result.session.csrfToken)) {
        throw new ForbiddenException('Missing or invalid CSRF token');
      }
    }
    const required = policy.roles;
    if (required && required.length > 0) {
      const roles = this.options.resolveRoles(result.session);
      if (!required.some((role) => roles.includes(role)))
        throw new ForbiddenException('Insufficient role');
    }
    return true;
  }

  /**
   * A gateway message: its connection must have authenticated at the handshake
   * (SessionSockets.authenticate), the session must still be valid, and `@Roles()` hold.
   */
  private canActivateSocket(
    context: ExecutionContext,
    policy: RoutePolicy,
  ): boolean | Promise<boolean> {
    if (policy.publicRoute !== undefined) return true;
    const client = context.switchToWs().getClient<object>();
    const result = this.sockets.verifyClient(client);
    if (result === undefined) throw wsError('Unauthorized: the connection has no session');
    const admit = (checked: ValidationResult) => {
      if (!checked.valid) throw wsError('Unauthorized: the session has ended');
      const required = policy.roles;
      if (required && required.length > 0) {
        const roles = this.options.resolveRoles(checked.session);
        if (!required.some((role) => roles.includes(role)))
          throw wsError('Forbidden: insufficient role');
      }
      return true;
    };
    return result instanceof Promise ? result.then(admit) : admit(result);
  }

  private policyOf(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    const controller = context.getClass();
    // By class, then handler: an inherited handler is one function under several classes.
    let byHandler = this.policies.get(controller);
    if (byHandler === undefined) this.policies.set(controller, (byHandler = new WeakMap()));
    let policy = byHandler.get(handler);
    if (policy === undefined) {
      const targets = [handler, controller];
      policy = {
        publicRoute: this.reflector.getAllAndOverride<Required<PublicRouteOptions> | undefined>(
          IS_PUBLIC_KEY,
          targets,
        ),
        skipCsrf:
          this.reflector.getAllAndOverride<boolean | undefined>(SKIP_CSRF_KEY, targets) === true,
        roles: this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets),
      };
      byHandler.set(handler, policy);
    }
    return policy;
  }

  private async verify(token: string): Promise<ValidationResult> {
    try {
      return await this.sessions.verify(token);
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError)
        throw new ServiceUnavailableException('Session store unavailable');
      throw error;
    }
  }

  private needsCsrfCheck(method: string | undefined, policy: RoutePolicy): boolean {
    if (!this.options.csrf.enabled || !UNSAFE_METHODS.has((method ?? 'GET').toUpperCase()))
      return false;
    return !policy.skipCsrf;
  }
}
