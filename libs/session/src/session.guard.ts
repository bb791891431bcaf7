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

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Authenticates HTTP requests by session token (cookie, `x-session-id` header or bearer).
 * Missing or invalid → 401; missing role or CSRF token → 403; Redis down → 503.
 * Other context types (RPC, WebSocket) are refused with UnsupportedContextError unless the handler
 * is @Public(): a guard that cannot authenticate must not wave a request through silently (a
 * global guard would otherwise leave a hybrid app's gateways and message handlers open).
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
