import { createHash } from 'node:crypto';
import {
  expressSessionStore,
  MiddlewareSessions,
  SessionIndex,
  type EventSourcedExpressStore,
  type MiddlewareStoreOptions,
  type SessionModuleOptions,
} from '@app/session';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';

export interface StoreFixture extends SessionFixture {
  middleware: MiddlewareSessions;
  index: SessionIndex;
  /** An express-session store with the given options, and promise forms of its methods. */
  expressStore(options?: MiddlewareStoreOptions): PromisedStore;
  /** The session key a sid's pointer names, or null. */
  sessionKeyOf(sid: string): Promise<string | null>;
}

export interface PromisedStore {
  store: EventSourcedExpressStore;
  get(sid: string): Promise<Record<string, unknown> | null | undefined>;
  set(sid: string, session: object): Promise<void>;
  touch(sid: string, session: object): Promise<void>;
  destroy(sid: string): Promise<void>;
}

function callbackPromise(call: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) =>
    call((err) => {
      if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
      else resolve();
    }),
  );
}

export function sidDigest(sid: string): string {
  return createHash('sha256').update(sid).digest('hex');
}

export async function createStoreFixture(
  label: string,
  options: Partial<Omit<SessionModuleOptions, 'redis'>> = {},
): Promise<StoreFixture> {
  const fixture = await createSessionFixture(label, options);
  const middleware = fixture.module.get(MiddlewareSessions);
  return {
    ...fixture,
    middleware,
    index: fixture.module.get(SessionIndex),
    expressStore(storeOptions) {
      const store = expressSessionStore(middleware, storeOptions);
      return {
        store,
        get: (sid) =>
          new Promise((resolve, reject) =>
            store.get(sid, (err, data) =>
              err ? reject(err as Error) : resolve(data as Record<string, unknown> | null),
            ),
          ),
        set: (sid, session) => callbackPromise((done) => store.set(sid, session as never, done)),
        touch: (sid, session) =>
          callbackPromise((done) => store.touch?.(sid, session as never, done)),
        destroy: (sid) => callbackPromise((done) => store.destroy(sid, done)),
      };
    },
    async sessionKeyOf(sid) {
      const sessionId = await fixture.redis.get(`${fixture.prefix}:sid:${sidDigest(sid)}`);
      return sessionId
        ? fixture.service.keys.session(sessionId, Number(sessionId.split('-')[0]))
        : null;
    },
  };
}

/** A session as express-session hands it to a store (its JSON form is what counts). */
export function expressSession(data: Record<string, unknown>, maxAgeMs = 3_600_000) {
  return {
    cookie: {
      originalMaxAge: maxAgeMs,
      expires: new Date(Date.now() + maxAgeMs).toISOString(),
      httpOnly: true,
      path: '/',
    },
    ...data,
  };
}
