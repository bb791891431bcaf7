/**
 * The alternative most Express/Nest users would pick: a plain Express app with express-session and
 * connect-redis (ioredis). Run as its own process: PORT, REDIS_URL.
 *   POST /login {userId}  → 201, Set-Cookie connect.sid (signed)
 *   GET  /me              → 200 {userId} with a session, 401 without (GET + EXPIRE per request)
 *   GET  /ping            → no I/O (mounted before the session middleware)
 */
import RedisStore from 'connect-redis';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { COOKIE_MAX_AGE_MS } from './connect-redis-store';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const app = express();
app.disable('x-powered-by');

app.get('/ping', (_request, response) => {
  response.json({ pong: true });
});

app.use(
  session({
    store: new RedisStore({ client: redis, prefix: 'sess:' }),
    secret: 'bench-only-secret',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: COOKIE_MAX_AGE_MS },
  }),
);

app.post('/login', express.json(), (request, response) => {
  const body = request.body as { userId?: unknown } | undefined;
  if (typeof body?.userId !== 'string') {
    response.status(400).json({ statusCode: 400, message: 'userId required' });
    return;
  }
  request.session.userId = body.userId;
  request.session.roles = ['user'];
  response.status(201).json({ userId: body.userId });
});

const requireSession: RequestHandler = (request, response, next) => {
  if (request.session.userId) next();
  else response.status(401).json({ statusCode: 401, message: 'No session' });
};

app.get('/me', requireSession, (request, response) => {
  response.json({ userId: request.session.userId });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
});
