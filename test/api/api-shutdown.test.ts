import Redis from 'ioredis';
import request from 'supertest';
import { RedisServerProcess } from '../support/redis-server-process';
import { type ApiFixture, createApiFixture, sleep } from './api-fixture';

describe('graceful shutdown (private redis-server)', () => {
  let server: RedisServerProcess;
  let fx: ApiFixture;
  let sleeper: Redis;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    fx = await createApiFixture('api-shutdown', { REDIS_URL: server.url, LOGIN_RATE_LIMIT: '10' });
    sleeper = new Redis(server.url);
  });
  afterAll(async () => {
    sleeper.disconnect();
    // The test closed the app itself (a second close() would make the library's ended Redis
    // client linger 2 s); the private server's data needs no clean-up.
    fx.redis.disconnect();
    await server.stop();
  });

  it('finishes in-flight requests (with their Redis calls) before closing, then refuses connections', async () => {
    const alice = await fx.login('alice');
    // Redis stalls for 600 ms, so the next requests are in flight when shutdown starts.
    const stall = sleeper.call('DEBUG', 'SLEEP', '0.6');
    await sleep(50);
    const me = fx
      .http()
      .get('/auth/me')
      .set('x-session-id', alice.token)
      .then((r) => r);
    // A login needs two Redis calls (rate limiter, then create): the second is issued after the
    // shutdown began, so it fails unless the drain happens before the Redis client is closed.
    const login = fx
      .http()
      .post('/auth/login')
      .send({ userId: 'bob', password: 'bob-demo-pass' })
      .then((r) => r);
    await sleep(100);

    const closeStarted = Date.now();
    // What enableShutdownHooks() runs on SIGTERM.
    const closing = fx.app.close().then(() => Date.now());
    const [meResponse, loginResponse, closedAt] = await Promise.all([me, login, closing]);
    await stall;

    expect(meResponse.status).toBe(200);
    expect(meResponse.body).toMatchObject({ userId: 'alice' });
    expect(loginResponse.status).toBe(201);
    expect(loginResponse.body).toMatchObject({ userId: 'bob' });
    // close() waited for them (the stall had ~450 ms left when it started).
    expect(closedAt - closeStarted).toBeGreaterThan(300);
    await expect(request(fx.url).get('/ping')).rejects.toThrow(/ECONNREFUSED/);
  });
});
