import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { SessionRequest } from './session-request';
import type { Session } from './session.types';

export const IS_PUBLIC_KEY = 'session:public';
export const ROLES_KEY = 'session:roles';
export const SKIP_CSRF_KEY = 'session:skip-csrf';

export interface PublicRouteOptions {
  /**
   * Default true: a valid token, when sent, is still looked up and attached (optional auth).
   * False: the guard does nothing at all, so the route costs no I/O (health checks, liveness).
   */
  attachSession?: boolean;
}

/** The route needs no session. */
export const Public = (options: PublicRouteOptions = {}) =>
  SetMetadata(IS_PUBLIC_KEY, { attachSession: options.attachSession ?? true });

/** The session must have at least one of these roles, else 403. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

/** Opt a cookie-authenticated write out of the CSRF check (e.g. a login form). */
export const SkipCsrf = () => SetMetadata(SKIP_CSRF_KEY, true);

/** The validated session of the request (undefined on a public route without one). */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): Session | undefined =>
    context.switchToHttp().getRequest<SessionRequest>().session,
);

/** The user id of the validated session. */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): string | undefined =>
    context.switchToHttp().getRequest<SessionRequest>().session?.userId,
);
