import type { Request } from 'express';
import type { SessionData, Store } from 'express-session';
import type { SessionMeta } from '../session.types';
import { MiddlewareSessions, type SessionRead } from './middleware-sessions';
import {
  type MiddlewareStoreOptions,
  type ResolvedMiddlewareStoreOptions,
  resolveMiddlewareStoreOptions,
} from './middleware-store-options';
import { settle } from './settle';
import { fromJsonValues } from './stored-shape';

/** The read a get() handed out, carried to createSession() on the object express-session gets. */
const READ = Symbol('sessionRead');

/** An express-session Store over the library's sessions (see `expressSessionStore`). */
export type EventSourcedExpressStore = Store & {
  readonly sessions: MiddlewareSessions;
};

type StoreClass = new (
  sessions: MiddlewareSessions,
  options?: MiddlewareStoreOptions,
) => EventSourcedExpressStore;
let storeClass: StoreClass | undefined;

/**
 * A store for express-session: `session({ store: expressSessionStore(app.get(MiddlewareSessions)),
 * ... })`. express-session is loaded on the first call, so apps without it never need it.
 */
export function expressSessionStore(
  sessions: MiddlewareSessions,
  options?: MiddlewareStoreOptions,
): EventSourcedExpressStore {
  storeClass ??= defineStoreClass();
  return new storeClass(sessions, options);
}

function defineStoreClass(): StoreClass {
  // Loaded here, not imported: express-session is optional (a dev dependency of this repository).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Store: ExpressStore } = require('express-session') as typeof import('express-session');

  return class ExpressSessionStore extends ExpressStore implements EventSourcedExpressStore {
    /** What each live request read, by its req.session: the base its save is compared with. */
    private readonly reads = new WeakMap<object, SessionRead>();
    private readonly options: ResolvedMiddlewareStoreOptions;

    constructor(
      readonly sessions: MiddlewareSessions,
      options?: MiddlewareStoreOptions,
    ) {
      super();
      this.options = resolveMiddlewareStoreOptions(options);
    }

    get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
      settle(
        this.sessions.read(sid, this.options).then((read) => {
          if (!read) return null;
          const session = fromJsonValues(read.values);
          Object.defineProperty(session, READ, { value: read });
          return session as unknown as SessionData;
        }),
        callback,
      );
    }

    /** express-session builds req.session here from what get() returned: remember its read. */
    override createSession(req: Request, session: SessionData) {
      const read = (session as unknown as Record<symbol, SessionRead | undefined>)[READ];
      const created = super.createSession(req, session);
      if (read) this.reads.set(created, read);
      return created;
    }

    set(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
      const req = (session as { req?: Request }).req;
      settle(
        this.sessions
          .write(sid, session, this.reads.get(session), this.options, metaOf(req))
          .then((read) => void this.reads.set(session, read)),
        callback,
      );
    }

    override touch(sid: string, _session: SessionData, callback?: (err?: unknown) => void): void {
      settle(this.sessions.touch(sid, this.options), callback);
    }

    destroy(sid: string, callback?: (err?: unknown) => void): void {
      settle(this.sessions.destroy(sid, this.options), callback);
    }
  };
}

/** Device metadata for a new session (its user's device list), from the request that made it. */
function metaOf(req: Request | undefined): SessionMeta {
  if (!req) return {};
  const userAgent = req.headers?.['user-agent'];
  return {
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    ip: typeof req.ip === 'string' ? req.ip : undefined,
  };
}
