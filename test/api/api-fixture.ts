import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { SessionCookies, SessionService } from '@app/session';
import { createApp, type CreateAppOptions } from '../../apps/api/src/app.factory';
import { type ApiConfig, loadConfig } from '../../apps/api/src/config';
import { DEMO_USERS_FILE } from '../support/demo-users';
import { testHttpAdapter } from '../support/http-adapters';
import { deleteKeysWithPrefix, testRedisUrl, uniquePrefix } from '../support/test-redis';

export const DEMO_USERS = {
  alice: 'alice-demo-pass',
  bob: 'bob-demo-pass',
  admin: 'admin-demo-pass',
} as const;
export type DemoUser = keyof typeof DEMO_USERS;

export interface LoggedIn {
  userId: string;
  sessionId: string;
  token: string;
  csrfToken: string;
  /** `session_id=<token>` (`__Host-session_id` with Secure cookies), ready for a Cookie header. */
  cookie: string;
  setCookie: string;
}

export interface ApiFixture {
  app: INestApplication;
  config: ApiConfig;
  /** Base URL of the listening app. */
  url: string;
  prefix: string;
  /** A client on the app's Redis, for looking at (and seeding) what the app wrote. */
  redis: Redis;
  sessions: SessionService;
  http(): ReturnType<typeof request>;
  login(userId: string, password?: string): Promise<LoggedIn>;
  close(): Promise<void>;
}

/**
 * The real app (createApp, as main.ts builds it) listening on a free loopback port, with its own
 * key prefix on the test Redis. Defaults for tests: the demo users as USERS_FILE, no Secure cookie
 * flag, no rate limits, no logs.
 */
export async function createApiFixture(
  label: string,
  env: Record<string, string> = {},
  options: CreateAppOptions = {},
): Promise<ApiFixture> {
  const prefix = uniquePrefix(label);
  const config = loadConfig({
    REDIS_URL: testRedisUrl(),
    SESSION_PREFIX: prefix,
    SESSION_COOKIE_SECURE: 'false',
    LOGIN_RATE_LIMIT: '0',
    SESSION_WRITE_RATE_LIMIT: '0',
    LOG_LEVEL: 'silent',
    USERS_FILE: DEMO_USERS_FILE,
    HTTP_ADAPTER: testHttpAdapter(),
    ...env,
  });
  const app = await createApp(config, options);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let closed = false;

  const fixture: ApiFixture = {
    app,
    config,
    url: url.replace('[::1]', '127.0.0.1'),
    prefix,
    redis,
    sessions: app.get(SessionService),
    http: () => request(fixture.url),
    async login(userId, password = DEMO_USERS[userId as DemoUser]) {
      const response = await fixture
        .http()
        .post('/auth/login')
        .send({ userId, password })
        .expect(201);
      const setCookie = sessionCookieOf(response.headers);
      if (!setCookie) throw new Error('login set no session cookie');
      const body = response.body as { sessionId: string; token: string; csrfToken: string };
      const name = fixture.app.get(SessionCookies).name;
      return { userId, ...body, cookie: `${name}=${body.token}`, setCookie };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      try {
        if (config.redisUrl === testRedisUrl()) await deleteKeysWithPrefix(redis, prefix);
      } finally {
        redis.disconnect();
      }
    },
  };
  return fixture;
}

/** The Set-Cookie line of the session cookie, if the response has one. */
export function sessionCookieOf(headers: Record<string, unknown>): string | undefined {
  const raw = headers['set-cookie'];
  const lines = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  return lines.find((line) => /^(__Host-)?session_id=/.test(line));
}

/** Cookie attributes, lower-cased names → value ('' for flags). */
export function cookieAttributes(setCookie: string): Map<string, string> {
  const [, ...attributes] = setCookie.split(';').map((part) => part.trim());
  return new Map(
    attributes.map((attribute) => {
      const [name, ...value] = attribute.split('=');
      return [name.toLowerCase(), value.join('=')];
    }),
  );
}

export { sleep } from '../support/sleep';
