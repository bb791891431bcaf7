import type { SessionCookies } from '../session-cookies';
import type { SessionService } from '../session.service';
import type { CreatedSession, SessionData, SessionMeta } from '../session.types';

/** A real session for a test, with the headers that present it each way the guard accepts. */
export interface TestSession extends CreatedSession {
  userId: string;
  /** `Authorization: Bearer <token>`: no CSRF token needed. */
  bearer: { authorization: string };
  /** The session cookie plus the CSRF header a cookie-authenticated write needs. */
  cookieHeaders(cookies: SessionCookies): { cookie: string; 'x-csrf-token': string };
}

/**
 * Logs `userId` in for a test: a real session (roles and data as given) created through the
 * service, so the guard, `@Roles()` and revocation behave exactly as in production.
 */
export async function authenticateAs(
  sessions: SessionService,
  userId: string,
  options: { roles?: string[]; data?: SessionData; meta?: SessionMeta } = {},
): Promise<TestSession> {
  const data = options.roles ? { ...options.data, roles: options.roles } : options.data;
  const created = await sessions.create(userId, data, options.meta);
  return {
    ...created,
    userId,
    bearer: { authorization: `Bearer ${created.token}` },
    cookieHeaders: (cookies) => ({
      cookie: `${cookies.name}=${created.token}`,
      'x-csrf-token': created.csrfToken,
    }),
  };
}
