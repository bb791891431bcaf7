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
import { safeEqual } from './token';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Authenticates HTTP requests by session token (cookie, `x-session-id` header or bearer).
 * Missing or invalid → 401; missing role or CSRF token → 403; Redis down → 503.
 * Other context types (RPC, WebSocket) are refused with UnsupportedContextError unless the handler
 * is @Public(): a guard that cannot authenticate must not wave a request through silently (a
 * global guard would otherwise leave a hybrid app's gateways and message handlers open).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionService,
    private readonly reflector: Reflector,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const publicRoute = this.reflector.getAllAndOverride<Required<PublicRouteOptions> | undefined>(
      IS_PUBLIC_KEY,
      targets,
    );
    const isPublic = publicRoute !== undefined;
    if (context.getType() !== 'http') {
      if (isPublic) return true;
      throw new UnsupportedContextError(
        context.getType(),
        `${context.getClass().name}.${context.getHandler().name}`,
      );
    }
    if (publicRoute?.attachSession === false) return true;
    const request = context.switchToHttp().getRequest<IncomingSessionRequest>();

    const found = extractToken(request, this.options);
    if (!found) {
      if (isPublic) return true;
      throw new UnauthorizedException('No session');
    }
    const result = await this.verify(found.token);
    if (!result.valid) {
      if (isPublic) return true;
      throw new UnauthorizedException('Invalid session');
    }
    request.session = result.session;
    request.sessionAuth = found.source;
    request.sessionToken = found.token;
    if (isPublic) return true;

    if (found.source === 'cookie' && this.needsCsrfCheck(request.method, targets)) {
      const presented = request.headers[this.options.csrf.headerName];
      if (typeof presented !== 'string' || !safeEqual(presented, result.session.csrfToken)) {
        throw new ForbiddenException('Missing or invalid CSRF token');
      }
    }
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets);
    if (required && required.length > 0) {
      const roles = this.options.resolveRoles(result.session);
      if (!required.some((role) => roles.includes(role)))
        throw new ForbiddenException('Insufficient role');
    }
    return true;
  }

  private async verify(token: string) {
    try {
      return await this.sessions.verify(token);
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError)
        throw new ServiceUnavailableException('Session store unavailable');
      throw error;
    }
  }

  private needsCsrfCheck(
    method: string | undefined,
    targets: Parameters<Reflector['getAllAndOverride']>[1],
  ): boolean {
    if (!this.options.csrf.enabled || !UNSAFE_METHODS.has((method ?? 'GET').toUpperCase()))
      return false;
    return this.reflector.getAllAndOverride<boolean | undefined>(SKIP_CSRF_KEY, targets) !== true;
  }
}
