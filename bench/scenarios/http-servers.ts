/** The three servers of the HTTP scenario: how to start each, log in, and what path is guarded. */
import { join } from 'node:path';
import { ROOT, type ServerOptions, type ServerProcess } from '../support/server-process';

export interface HttpServerKind {
  name: string;
  guardedPath: string;
  options(redisUrl: string): ServerOptions;
  /** Logs in as alice and answers the request headers that carry the session. */
  login(server: ServerProcess): Promise<Record<string, string>>;
}

async function loginCookie(
  server: ServerProcess,
  path: string,
  body: Record<string, string>,
  cookieName: string,
): Promise<Record<string, string>> {
  const response = await fetch(server.url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`${server.name} login: ${response.status}`);
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .find((pair) => pair.startsWith(`${cookieName}=`));
  if (!cookie) throw new Error(`${server.name} login set no ${cookieName} cookie`);
  return { cookie };
}

/** Checks that the guarded path answers the user id with the session, 401 without. */
async function checkGuarded(
  server: ServerProcess,
  path: string,
  headers: Record<string, string>,
): Promise<void> {
  const denied = await fetch(server.url(path));
  const allowed = await fetch(server.url(path), { headers });
  const body = (await allowed.json()) as { userId?: unknown };
  if (denied.status !== 401 || allowed.status !== 200 || body.userId !== 'alice')
    throw new Error(
      `${server.name} ${path}: ${denied.status} without a session, ${allowed.status} with`,
    );
}

/** The built api (`npm run build`), started as `npm run start:api` does, on one adapter. */
export const API_ENTRY = 'dist/apps/api/apps/api/src/main.js';

export function apiServer(adapter: 'fastify' | 'express'): HttpServerKind {
  return {
    name: `apps/api (${adapter})`,
    guardedPath: '/auth/me',
    options: (url) => ({
      entry: API_ENTRY,
      readyPath: '/health',
      env: {
        HTTP_ADAPTER: adapter,
        REDIS_URL: url,
        LOG_LEVEL: 'warn',
        LOGIN_RATE_LIMIT: '0',
        SESSION_WRITE_RATE_LIMIT: '0',
        SESSION_COOKIE_SECURE: 'false',
        NODE_ENV: 'production',
        USERS_FILE: join(ROOT, 'apps/api/demo-users.json'),
      },
    }),
    login: async (server) => {
      const headers = await loginCookie(
        server,
        '/auth/login',
        { userId: 'alice', password: 'alice-demo-pass' },
        'session_id',
      );
      await checkGuarded(server, '/auth/me', headers);
      return headers;
    },
  };
}

export const fastifySessionServer: HttpServerKind = {
  name: '@fastify/session',
  guardedPath: '/me',
  options: (url) => ({
    entry: 'bench/peers/fastify-session-app.ts',
    readyPath: '/ping',
    env: { REDIS_URL: url, NODE_ENV: 'production' },
  }),
  login: async (server) => {
    const headers = await loginCookie(server, '/login', { userId: 'alice' }, 'sessionId');
    await checkGuarded(server, '/me', headers);
    return headers;
  },
};

export const expressServer: HttpServerKind = {
  name: 'express-session',
  guardedPath: '/me',
  options: (url) => ({
    entry: 'bench/peers/express-session-app.ts',
    readyPath: '/ping',
    env: { REDIS_URL: url, NODE_ENV: 'production' },
  }),
  login: async (server) => {
    const headers = await loginCookie(server, '/login', { userId: 'alice' }, 'connect.sid');
    await checkGuarded(server, '/me', headers);
    return headers;
  },
};

export const seedServer: HttpServerKind = {
  name: 'seed-nest-app',
  guardedPath: '/me',
  options: (url) => ({
    entry: 'bench/peers/seed-nest-app.ts',
    readyPath: '/ping',
    env: { REDIS_URL: url, NODE_ENV: 'production' },
  }),
  login: async (server) => {
    const headers = await loginCookie(server, '/login', { userId: 'alice' }, 'session_id');
    await checkGuarded(server, '/me', headers);
    return headers;
  },
};

export const libraryServer: HttpServerKind = {
  name: 'library-nest-app',
  guardedPath: '/me',
  options: (url) => ({
    entry: 'bench/apps/library-nest-app.ts',
    readyPath: '/ping',
    env: { REDIS_URL: url, NODE_ENV: 'production' },
  }),
  login: async (server) => {
    const headers = await loginCookie(server, '/login', { userId: 'alice' }, 'session_id');
    await checkGuarded(server, '/me', headers);
    return headers;
  },
};
