import { SessionConfigError } from '../errors';

/** A session object as express-session and @fastify/session hand it to a store. */
export type MiddlewareSessionData = Record<string, unknown>;

/** How connect-redis serialized sessions (its `serializer` option); JSON by default. */
export interface LegacySerializer {
  parse(text: string): unknown; // or a promise of it, as connect-redis allows
  stringify(value: unknown): string;
}

/** Options of the express-session and @fastify/session stores. */
export interface MiddlewareStoreOptions {
  /**
   * The user a session belongs to, or null/undefined for a guest. Default: `session.passport.user`
   * (what passport's `req.login` writes) when it is a string or a number.
   */
  userIdOf?: (session: MiddlewareSessionData) => string | number | null | undefined;
  /**
   * Idle lifetime of a new session in seconds (connect-redis's `ttl`): a number or a function of
   * the session. Default: the cookie's maxAge when it has one, else the deployment's idle TTL.
   */
  ttl?: number | ((session: MiddlewareSessionData) => number);
  /** Make `touch()` a no-op (connect-redis's `disableTouch`). */
  disableTouch?: boolean;
  /**
   * Lazy migration from connect-redis: on a miss, read the session connect-redis wrote
   * (`<prefix><sid>`), move it over and delete it. `true` for connect-redis's defaults.
   */
  migrateFromConnectRedis?: boolean | { prefix?: string; serializer?: LegacySerializer };
}

export interface ResolvedMiddlewareStoreOptions {
  userIdOf: (session: MiddlewareSessionData) => string | number | null | undefined;
  ttl?: number | ((session: MiddlewareSessionData) => number);
  disableTouch: boolean;
  legacy: { prefix: string; serializer: LegacySerializer } | null;
}

/** connect-redis's default key prefix. */
export const CONNECT_REDIS_PREFIX = 'sess:';

/** passport's default: `session.passport.user`. */
export function passportUserOf(session: MiddlewareSessionData): string | number | undefined {
  const passport = session.passport;
  if (typeof passport !== 'object' || passport === null) return undefined;
  const user = (passport as Record<string, unknown>).user;
  return typeof user === 'string' || typeof user === 'number' ? user : undefined;
}

export function resolveMiddlewareStoreOptions(
  options: MiddlewareStoreOptions = {},
): ResolvedMiddlewareStoreOptions {
  const { ttl, migrateFromConnectRedis: legacy } = options;
  if (ttl !== undefined && typeof ttl !== 'function' && !(Number.isFinite(ttl) && ttl > 0))
    throw new SessionConfigError('ttl', 'must be a positive number of seconds or a function');
  if (options.userIdOf !== undefined && typeof options.userIdOf !== 'function')
    throw new SessionConfigError('userIdOf', 'must be a function');
  return {
    userIdOf: options.userIdOf ?? passportUserOf,
    ttl,
    disableTouch: options.disableTouch === true,
    legacy: legacy
      ? {
          prefix: (legacy === true ? undefined : legacy.prefix) ?? CONNECT_REDIS_PREFIX,
          serializer: (legacy === true ? undefined : legacy.serializer) ?? JSON,
        }
      : null,
  };
}
