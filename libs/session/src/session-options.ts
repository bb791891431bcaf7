import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { SessionConfigError } from './errors';
import { DEFAULT_FORBIDDEN_DATA_KEYS, normalizeDataKey } from './forbidden-data';
import type { Session } from './session.types';

/** How the library reaches Redis: a URL, ioredis options, or a client the app already owns. */
export type SessionRedisConfig =
  | { url: string; options?: RedisOptions }
  | { options: RedisOptions }
  | { cluster: { nodes: ClusterNode[]; options?: ClusterOptions } }
  | { client: Redis | Cluster };

export interface SessionCookieOptions {
  /** Cookie carrying the token. Default `session_id` (the seed's name). */
  name?: string;
  /** Send the cookie only over HTTPS. Default true. */
  secure?: boolean;
  /** Default `lax`. */
  sameSite?: 'lax' | 'strict' | 'none';
  /** Default `/`. */
  path?: string;
  domain?: string;
  /**
   * Name the cookie `__Host-<name>`, which browsers accept only from this host, Secure, on `/`
   * and without Domain: a sibling subdomain cannot plant or shadow it. Default: on when `secure`.
   */
  hostPrefix?: boolean;
}

export interface SessionModuleOptions {
  redis: SessionRedisConfig;
  /** Prefix of every key and channel. Default `sess`. */
  keyPrefix?: string;
  /** Sliding idle expiry. Default 3600 s. */
  idleTtlSeconds?: number;
  /** Absolute maximum age, whatever the activity. Default 86400 s. */
  absoluteTtlSeconds?: number;
  /** A validation extends the idle expiry at most once per interval. Default min(60, idle/10). */
  touchIntervalSeconds?: number;
  /** Maximum size of a session's data, and of one patch (keys + JSON values, UTF-8 bytes). Default 4096. */
  maxDataBytes?: number;
  /** Maximum top-level keys of a session's data. Default 64. */
  maxDataKeys?: number;
  /** Maximum top-level keys one patch may name, deletions included. Default = maxDataKeys. */
  maxPatchKeys?: number;
  /**
   * Key terms never allowed in session data, at any depth, matched after Unicode normalization
   * (see forbidden-data.ts). Default {@link DEFAULT_FORBIDDEN_DATA_KEYS}.
   */
  forbiddenDataKeys?: string[];
  /** Refuse data values that are payment card numbers (Luhn-valid, known brand). Default true. */
  refuseCardNumbers?: boolean;
  /**
   * Top-level data keys only the server writes (what authorizes): `update()` refuses them,
   * `create()` and `updateServerOwned()` set them. Default `['roles']`.
   */
  serverOwnedDataKeys?: string[];
  /** Number of stream partitions; fixed for a deployment. Default 16. */
  streamPartitions?: number;
  /** How long events are kept in the streams; at least absoluteTtlSeconds (the default). */
  streamRetentionSeconds?: number;
  /**
   * Length backstop of each partition stream (approximate `MAXLEN ~`), beside the age trim. Size
   * it above the events a partition receives in `streamRetentionSeconds` at peak (see README).
   * Default 1,000,000.
   */
  streamMaxLength?: number;
  /** Bound on a Redis command when the library owns the client, so requests fail fast. Default 2000. */
  commandTimeoutMs?: number;
  cookie?: SessionCookieOptions;
  /** Header carrying the token (the seed's). Default `x-session-id`. */
  headerName?: string;
  /** CSRF check for cookie-authenticated writes. Default enabled, header `x-csrf-token`. */
  csrf?: { enabled?: boolean; headerName?: string };
  /** Roles of a session, for `@Roles()`. Default: `session.data.roles` when it is a string array. */
  resolveRoles?: (session: Session) => readonly string[];
  /**
   * The principal (your user object) of a session, for `@CurrentPrincipal()`: called at most once
   * per request, and only by a handler that asks for it. Null or undefined → 401. To use a
   * service, build the options with `forRootAsync({ inject: [UsersService], useFactory })`.
   */
  resolvePrincipal?: (session: Session) => unknown;
  /** The in-memory (L1) cache of validated sessions on this instance. */
  cache?: SessionCacheConfig;
  /** Health checks of the pub/sub connection that keeps the cache honest. */
  invalidations?: { pingIntervalMs?: number; pingTimeoutMs?: number };
}

export interface SessionCacheConfig {
  /** Default true. Off: every validation asks Redis; behaviour is otherwise identical. */
  enabled?: boolean;
  /** Default 10,000 sessions. */
  maxEntries?: number;
  /** Default 32 MiB (estimated). */
  maxBytes?: number;
  /**
   * How long an entry is trusted after Redis last confirmed it, default 5000 ms. This bounds how
   * long a revoked session can still be accepted here if an invalidation message is lost.
   */
  maxStalenessMs?: number;
}

export interface ResolvedSessionOptions {
  redis: SessionRedisConfig;
  keyPrefix: string;
  idleTtlMs: number;
  absoluteTtlMs: number;
  touchIntervalMs: number;
  maxDataBytes: number;
  maxDataKeys: number;
  maxPatchKeys: number;
  forbiddenDataKeys: readonly string[];
  refuseCardNumbers: boolean;
  serverOwnedDataKeys: readonly string[];
  streamPartitions: number;
  streamRetentionMs: number;
  streamMaxLength: number;
  commandTimeoutMs: number;
  /** `name` is the full cookie name, `__Host-` included when `hostPrefix` is on. */
  cookie: Required<Omit<SessionCookieOptions, 'domain'>> & { domain?: string };
  headerName: string;
  csrf: { enabled: boolean; headerName: string };
  resolveRoles: (session: Session) => readonly string[];
  resolvePrincipal: ((session: Session) => unknown) | undefined;
  cache: Required<SessionCacheConfig>;
  invalidations: { pingIntervalMs: number; pingTimeoutMs: number };
}

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
const HEADER = /^[a-z0-9-]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]{0,255}$/;

function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SessionConfigError(
      option,
      `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

function matching(option: string, value: unknown, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new SessionConfigError(
      option,
      `must match ${String(pattern)} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

function validateConnection(redis: unknown): SessionRedisConfig {
  if (typeof redis !== 'object' || redis === null) {
    throw new SessionConfigError(
      'redis',
      'must be { url }, { options }, { cluster } or { client }',
    );
  }
  const connection = redis as Record<string, unknown>;
  if ('client' in connection) {
    if (typeof connection.client !== 'object' || connection.client === null) {
      throw new SessionConfigError('redis.client', 'must be an ioredis Redis or Cluster instance');
    }
  } else if ('cluster' in connection) {
    const cluster = connection.cluster as { nodes?: unknown } | null;
    if (
      typeof cluster !== 'object' ||
      cluster === null ||
      !Array.isArray(cluster.nodes) ||
      cluster.nodes.length === 0
    ) {
      throw new SessionConfigError(
        'redis.cluster.nodes',
        'must be a non-empty array of { host, port } seed nodes',
      );
    }
  } else if ('url' in connection) {
    if (typeof connection.url !== 'string' || !/^rediss?:\/\//.test(connection.url)) {
      throw new SessionConfigError(
        'redis.url',
        `must be a redis:// or rediss:// URL (got ${JSON.stringify(connection.url)})`,
      );
    }
  } else if (typeof connection.options !== 'object' || connection.options === null) {
    throw new SessionConfigError(
      'redis',
      'must be { url }, { options }, { cluster } or { client }',
    );
  }
  return redis as SessionRedisConfig;
}

function lowerCaseHeader(option: string, value: unknown, fallback: string): string {
  if (value !== undefined && typeof value !== 'string') {
    throw new SessionConfigError(option, `must be a header name (got ${JSON.stringify(value)})`);
  }
  return matching(option, (value ?? fallback).toLowerCase(), HEADER);
}

function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new SessionConfigError(option, `must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

const HOST_PREFIX = '__Host-';

/** The cookie options with the `__Host-` prefix applied and its rules checked. */
function resolveCookie(
  cookie: SessionCookieOptions,
  secure: boolean,
  sameSite: 'lax' | 'strict' | 'none',
): ResolvedSessionOptions['cookie'] {
  const baseName = matching('cookie.name', cookie.name ?? 'session_id', COOKIE_NAME);
  const path = matching('cookie.path', cookie.path ?? '/', COOKIE_PATH);
  const { domain } = cookie;
  const hostPrefix = boolean(
    'cookie.hostPrefix',
    cookie.hostPrefix,
    secure || baseName.startsWith(HOST_PREFIX),
  );
  if (hostPrefix) {
    const rule = (option: string, problem: string) =>
      new SessionConfigError(
        option,
        `${problem} with the __Host- cookie prefix (browsers drop such a cookie); set cookie.hostPrefix to false to do without it`,
      );
    if (!secure) throw rule('cookie.secure', 'must be true');
    if (path !== '/') throw rule('cookie.path', 'must be /');
    if (domain !== undefined) throw rule('cookie.domain', 'must be unset');
  }
  const name = hostPrefix && !baseName.startsWith(HOST_PREFIX) ? HOST_PREFIX + baseName : baseName;
  return { name, secure, sameSite, path, domain, hostPrefix };
}

function defaultRoles(session: Session): readonly string[] {
  const roles = session.data.roles;
  return Array.isArray(roles) && roles.every((r) => typeof r === 'string') ? roles : [];
}

/** Validates options at start-up; every error names the option that is wrong. */
export function resolveSessionOptions(options: SessionModuleOptions): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError('options', 'must be an object');
  }
  const idle = integer('idleTtlSeconds', options.idleTtlSeconds ?? 3600, 1, 31_536_000);
  const absolute = integer(
    'absoluteTtlSeconds',
    options.absoluteTtlSeconds ?? 86_400,
    1,
    31_536_000,
  );
  if (absolute < idle) {
    throw new SessionConfigError('absoluteTtlSeconds', `must be at least idleTtlSeconds (${idle})`);
  }
  const touch = integer(
    'touchIntervalSeconds',
    options.touchIntervalSeconds ?? Math.min(60, Math.floor(idle / 10)),
    0,
    idle - 1,
  );
  const retention = integer(
    'streamRetentionSeconds',
    options.streamRetentionSeconds ?? absolute,
    absolute,
    31_536_000 * 2,
  );
  const forbidden = keyList('forbiddenDataKeys', options.forbiddenDataKeys, [
    ...DEFAULT_FORBIDDEN_DATA_KEYS,
  ]);
  const serverOwned = keyList('serverOwnedDataKeys', options.serverOwnedDataKeys, ['roles']);
  const maxDataKeys = integer('maxDataKeys', options.maxDataKeys ?? 64, 1, 100_000);
  const cookie = options.cookie ?? {};
  const sameSite = cookie.sameSite ?? 'lax';
  if (!['lax', 'strict', 'none'].includes(sameSite)) {
    throw new SessionConfigError(
      'cookie.sameSite',
      `must be lax, strict or none (got ${JSON.stringify(sameSite)})`,
    );
  }
  const secure = boolean('cookie.secure', cookie.secure, true);
  if (sameSite === 'none' && !secure) {
    throw new SessionConfigError(
      'cookie.secure',
      'must be true when cookie.sameSite is none (browsers refuse the cookie otherwise)',
    );
  }
  const resolvedCookie = resolveCookie(cookie, secure, sameSite);
  if (options.resolvePrincipal !== undefined && typeof options.resolvePrincipal !== 'function') {
    throw new SessionConfigError('resolvePrincipal', 'must be a function');
  }
  if (options.resolveRoles !== undefined && typeof options.resolveRoles !== 'function') {
    throw new SessionConfigError('resolveRoles', 'must be a function');
  }
  // The default resolveRoles authorizes from data.roles: a client must never be able to write it.
  if (options.resolveRoles === undefined && !serverOwned.includes('roles')) {
    throw new SessionConfigError(
      'serverOwnedDataKeys',
      'must include "roles" while resolveRoles is the default (it reads session.data.roles)',
    );
  }
  return {
    redis: validateConnection(options.redis),
    keyPrefix: matching('keyPrefix', options.keyPrefix ?? 'sess', PREFIX),
    idleTtlMs: idle * 1000,
    absoluteTtlMs: absolute * 1000,
    touchIntervalMs: touch * 1000,
    maxDataBytes: integer('maxDataBytes', options.maxDataBytes ?? 4096, 16, 1_048_576),
    maxDataKeys,
    maxPatchKeys: integer('maxPatchKeys', options.maxPatchKeys ?? maxDataKeys, 1, maxDataKeys),
    forbiddenDataKeys: forbidden,
    refuseCardNumbers: boolean('refuseCardNumbers', options.refuseCardNumbers, true),
    serverOwnedDataKeys: serverOwned,
    streamPartitions: integer('streamPartitions', options.streamPartitions ?? 16, 1, 1024),
    streamRetentionMs: retention * 1000,
    streamMaxLength: integer(
      'streamMaxLength',
      options.streamMaxLength ?? 1_000_000,
      100,
      1_000_000_000,
    ),
    commandTimeoutMs: integer('commandTimeoutMs', options.commandTimeoutMs ?? 2000, 10, 60_000),
    cookie: resolvedCookie,
    headerName: lowerCaseHeader('headerName', options.headerName, 'x-session-id'),
    csrf: {
      enabled: boolean('csrf.enabled', options.csrf?.enabled, true),
      headerName: lowerCaseHeader('csrf.headerName', options.csrf?.headerName, 'x-csrf-token'),
    },
    resolveRoles: options.resolveRoles ?? defaultRoles,
    resolvePrincipal: options.resolvePrincipal,
    cache: {
      enabled: boolean('cache.enabled', options.cache?.enabled, true),
      maxEntries: integer('cache.maxEntries', options.cache?.maxEntries ?? 10_000, 1, 10_000_000),
      maxBytes: integer(
        'cache.maxBytes',
        options.cache?.maxBytes ?? 32 * 1024 * 1024,
        1024,
        2 ** 40,
      ),
      maxStalenessMs: integer(
        'cache.maxStalenessMs',
        options.cache?.maxStalenessMs ?? 5000,
        1,
        3_600_000,
      ),
    },
    invalidations: {
      pingIntervalMs: integer(
        'invalidations.pingIntervalMs',
        options.invalidations?.pingIntervalMs ?? 1000,
        50,
        600_000,
      ),
      pingTimeoutMs: integer(
        'invalidations.pingTimeoutMs',
        options.invalidations?.pingTimeoutMs ?? 1000,
        10,
        600_000,
      ),
    },
  };
}

/** A list of data keys, normalized; a key that normalizes to '' would match every key. */
function keyList(option: string, value: unknown, fallback: string[]): readonly string[] {
  const keys = value ?? fallback;
  if (
    !Array.isArray(keys) ||
    !keys.every((k) => typeof k === 'string' && normalizeDataKey(k).length > 0)
  ) {
    throw new SessionConfigError(
      option,
      'must be an array of strings with at least one letter or digit',
    );
  }
  return keys.map((k: string) => normalizeDataKey(k));
}
