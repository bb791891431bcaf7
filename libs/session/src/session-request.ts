import { parse as parseCookies } from 'cookie';
import type { ResolvedSessionOptions } from './session-options';
import type { Session } from './session.types';

/** How the request presented its token; CSRF checks apply only to `cookie`. */
export type SessionAuthSource = 'cookie' | 'header' | 'bearer';

/** The fields the guard adds to a request. */
export interface SessionRequest {
  session?: Session;
  sessionAuth?: SessionAuthSource;
  /** The raw token, kept for rotate/logout handlers; never log it. */
  sessionToken?: string;
}

/** The part of an HTTP request the guard reads. */
export interface IncomingSessionRequest extends SessionRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  cookies?: Record<string, unknown>;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Finds the token: cookie first (browsers), then the seed's header, then a bearer token. */
export function extractToken(
  request: IncomingSessionRequest,
  options: Pick<ResolvedSessionOptions, 'cookie' | 'headerName'>,
): { token: string; source: SessionAuthSource } | null {
  const fromParser = request.cookies?.[options.cookie.name];
  const cookieHeader = firstHeader(request.headers.cookie);
  const cookie =
    typeof fromParser === 'string'
      ? fromParser
      : cookieHeader
        ? parseCookies(cookieHeader)[options.cookie.name]
        : undefined;
  if (cookie) return { token: cookie, source: 'cookie' };
  const header = firstHeader(request.headers[options.headerName]);
  if (header) return { token: header, source: 'header' };
  const authorization = firstHeader(request.headers.authorization);
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (bearer) return { token: bearer[1], source: 'bearer' };
  return null;
}
