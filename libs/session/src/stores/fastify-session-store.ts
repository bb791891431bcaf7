import type { SessionMeta } from '../session.types';
import { MiddlewareSessions } from './middleware-sessions';
import {
  type MiddlewareSessionData,
  type MiddlewareStoreOptions,
  type ResolvedMiddlewareStoreOptions,
  resolveMiddlewareStoreOptions,
} from './middleware-store-options';
import { RecentReads } from './recent-reads';
import { settle } from './settle';
import { fromJsonValues, jsonValues, toStoredShape } from './stored-shape';

type Callback = (err?: unknown) => void;

/** How long a read stays the possible base of a save (a request slower than this is rare). */
const READ_MAX_AGE_MS = 120_000;

/**
 * A store for @fastify/session over the library's sessions:
 * `fastify.register(fastifySession, { secret, store: new FastifySessionStore(sessions) })`.
 * The same behaviour as the express-session store (see expressSessionStore); its interface is
 * get, set and destroy, so touches happen on reads (throttled by the library's touch interval).
 */
export class FastifySessionStore {
  private readonly options: ResolvedMiddlewareStoreOptions;
  private readonly reads: RecentReads;

  constructor(
    readonly sessions: MiddlewareSessions,
    options?: MiddlewareStoreOptions,
  ) {
    this.options = resolveMiddlewareStoreOptions(options);
    this.reads = new RecentReads(10_000, READ_MAX_AGE_MS);
  }

  /** Generic in the session type, so it fits @fastify/session's (its Session, as declared). */
  get<S = MiddlewareSessionData>(
    sessionId: string,
    callback: (err: unknown, session?: S | null) => void,
  ): void {
    settle(
      this.sessions.read(sessionId, this.options).then((read) => {
        if (!read) return null;
        this.reads.remember(sessionId, read);
        return fromJsonValues(read.values) as S;
      }),
      callback,
    );
  }

  set(sessionId: string, session: object, callback: Callback): void {
    const base = this.reads.bestFor(sessionId, jsonValues(toStoredShape(session)));
    settle(
      this.sessions
        .write(sessionId, session, base, this.options, metaOf(session))
        .then((read) => this.reads.remember(sessionId, read)),
      callback,
    );
  }

  destroy(sessionId: string, callback: Callback): void {
    this.reads.forget(sessionId);
    settle(this.sessions.destroy(sessionId, this.options), callback);
  }
}

/**
 * Device metadata from the request a @fastify/session Session keeps (under a private symbol, so
 * found by its description; nothing when a release renames it).
 */
function metaOf(session: object): SessionMeta {
  const symbol = Object.getOwnPropertySymbols(session).find((s) => s.description === 'request');
  const request = symbol
    ? ((session as Record<symbol, unknown>)[symbol] as
        { headers?: Record<string, unknown>; ip?: unknown } | undefined)
    : undefined;
  const userAgent = request?.headers?.['user-agent'];
  return {
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    ip: typeof request?.ip === 'string' ? request.ip : undefined,
  };
}
