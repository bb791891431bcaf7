/**
 * connect-redis 7 (with ioredis) used the way express-session uses it: `get` then `touch` on every
 * request that has a session, `set` when a session is created, through its callback API.
 */
import RedisStore from 'connect-redis';
import { Cookie, type SessionData } from 'express-session';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

declare module 'express-session' {
  interface SessionData {
    userId: string;
    roles: string[];
  }
}

export const COOKIE_MAX_AGE_MS = 86_400_000;

/** What express-session stores for a logged-in user (its cookie, then the app's fields). */
export function sessionRecord(userId: string): SessionData {
  const cookie = new Cookie();
  Object.assign(cookie, { httpOnly: true, secure: false, path: '/', sameSite: 'lax' });
  cookie.maxAge = COOKIE_MAX_AGE_MS; // sets expires and originalMaxAge, as express-session does
  return { cookie, userId, roles: ['user'] };
}

/** express-session's default session id: 24 random bytes, base64url (uid-safe). */
export function newSessionId(): string {
  return randomBytes(24).toString('base64url');
}

type Callback<T> = (error?: unknown, value?: T) => void;

function promised<T>(call: (callback: Callback<T>) => unknown): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    void call((error, value) => {
      if (error === undefined || error === null) resolve(value);
      else reject(error instanceof Error ? error : new Error('connect-redis failed'));
    });
  });
}

export class ConnectRedisPeer {
  readonly store: RedisStore;

  constructor(redis: Redis) {
    this.store = new RedisStore({ client: redis, prefix: 'sess:' });
  }

  get(sid: string): Promise<SessionData | undefined> {
    return promised<SessionData>((cb) => this.store.get(sid, cb));
  }

  touch(sid: string, session: SessionData): Promise<unknown> {
    return promised((cb) => this.store.touch(sid, session, cb));
  }

  set(sid: string, session: SessionData): Promise<unknown> {
    return promised((cb) => this.store.set(sid, session, cb));
  }

  destroy(sid: string): Promise<unknown> {
    return promised((cb) => this.store.destroy(sid, cb));
  }

  /** What express-session does for a request carrying a session cookie (resave: false). */
  async load(sid: string): Promise<SessionData | undefined> {
    const session = await this.get(sid);
    if (session) await this.touch(sid, session);
    return session;
  }

  /** A new session as express-session creates it at login. */
  async create(userId: string): Promise<string> {
    const sid = newSessionId();
    await this.set(sid, sessionRecord(userId));
    return sid;
  }
}
