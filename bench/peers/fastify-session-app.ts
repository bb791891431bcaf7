/**
 * The Fastify user's incumbent: a plain Fastify 5 app with @fastify/cookie, @fastify/session and
 * connect-redis (ioredis) as its store, options at their defaults but for the cookie and
 * saveUninitialized (as the express-session peer). Run as its own process: PORT, REDIS_URL.
 *   POST /login {userId}  → 201, Set-Cookie sessionId (signed)
 *   GET  /me              → 200 {userId} with a session, 401 without (a store GET per request)
 *   GET  /ping            → no I/O (sent without a cookie: nothing for the session hook to load)
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import RedisStore from 'connect-redis';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { COOKIE_MAX_AGE_MS } from './connect-redis-store';

declare module 'fastify' {
  interface Session {
    userId?: string;
    roles?: string[];
  }
}

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const app = Fastify({ logger: false });

void app.register(fastifyCookie);
void app.register(fastifySession, {
  store: new RedisStore({ client: redis, prefix: 'sess:' }),
  secret: 'bench-only-secret-of-at-least-32-characters',
  saveUninitialized: false,
  cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: COOKIE_MAX_AGE_MS },
});

app.get('/ping', async () => ({ pong: true }));

app.post('/login', async (request, reply) => {
  const body = request.body as { userId?: unknown } | undefined;
  if (typeof body?.userId !== 'string')
    return reply.code(400).send({ statusCode: 400, message: 'userId required' });
  request.session.userId = body.userId;
  request.session.roles = ['user'];
  return reply.code(201).send({ userId: body.userId });
});

app.get('/me', async (request, reply) => {
  const userId = request.session.userId;
  if (!userId) return reply.code(401).send({ statusCode: 401, message: 'No session' });
  return { userId };
});

void app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => redis.disconnect());
});
