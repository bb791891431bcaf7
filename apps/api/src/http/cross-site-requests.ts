import { ForbiddenException, Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { type ResolvedSessionOptions, SESSION_OPTIONS } from '@app/session';
import { API_CONFIG } from '../api.constants';
import type { ApiConfig } from '../config';
import { headerValue, type HttpRequest } from './http-request';
import { isSameOriginRequest } from './same-origin';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses (403) cross-site browser requests that the session cookie would make powerful. The CSRF
 * token already guards cookie writes; this is a second line that the browser itself vouches for
 * (Origin, Sec-Fetch-Site), and the only one for login, which has no session yet (login CSRF: an
 * attacker's page logging the victim into the attacker's account).
 */
@Injectable()
export class CrossSiteRequests {
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.allowedOrigins = new Set(config.allowedOrigins);
  }

  /** Throws 403 unless the request comes from our origin, an allowed one, or no browser. */
  check(request: HttpRequest): void {
    const allowed = isSameOriginRequest(
      {
        origin: request.headers.origin,
        secFetchSite: headerValue(request.headers['sec-fetch-site']),
        ownOrigin: `${request.protocol}://${request.headers.host ?? ''}`,
      },
      this.allowedOrigins,
    );
    if (!allowed) throw new ForbiddenException('Cross-site request refused');
  }
}

/**
 * The check on every write that carries the session cookie (the guard authenticates by the
 * cookie first, whatever else is sent). Safe methods and requests without the cookie pass:
 * nothing ambient to abuse. Login calls CrossSiteRequests itself.
 */
@Injectable()
export class CrossSiteCookieWritesMiddleware implements NestMiddleware {
  private readonly cookiePrefix: string;

  constructor(
    private readonly crossSite: CrossSiteRequests,
    @Inject(SESSION_OPTIONS) options: ResolvedSessionOptions,
  ) {
    this.cookiePrefix = `${options.cookie.name}=`;
  }

  use(request: HttpRequest, _response: unknown, next: () => void): void {
    this.checkRequest(request);
    next();
  }

  /** The check itself, for the Fastify hook (no Nest middleware there). */
  checkRequest(request: HttpRequest): void {
    if (UNSAFE_METHODS.has(request.method) && this.hasSessionCookie(request)) {
      this.crossSite.check(request);
    }
  }

  private hasSessionCookie(request: HttpRequest): boolean {
    const cookies = request.headers.cookie;
    return (
      cookies !== undefined &&
      cookies.split(';').some((part) => part.trimStart().startsWith(this.cookiePrefix))
    );
  }
}
