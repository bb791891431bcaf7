import { freePort } from '../support/free-port';
import { RedisServerProcess } from '../support/redis-server-process';
import { type ApiFixture, createApiFixture, sleep } from './api-fixture';

const FAST_MS = 3000;

async function timed<T>(call: () => PromiseLike<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await call();
  return { result, ms: Date.now() - started };
}

/** A loopback port nothing listens on (free a moment ago). */
const closedPort = freePort;

const unavailable = {
  statusCode: 503,
  message: 'Session store unavailable',
  error: 'Service Unavailable',
};

describe('api when Redis goes away (private redis-server)', () => {
  let server: RedisServerProcess;
  let fx: ApiFixture;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    fx = await createApiFixture('api-down', { REDIS_URL: server.url, LOGIN_RATE_LIMIT: '50' });
  });
  afterAll(async () => {
    await fx?.close();
    await server?.stop();
  });

  it('answers 503 quickly on /health and authenticated routes, and recovers when Redis is back', async () => {
    const alice = await fx.login('alice');
    await fx.http().get('/health').expect(200);
    await server.stop();

    const health = await timed(() => fx.http().get('/health'));
    expect(health.result.status).toBe(503);
    // Up or down, and nothing of why (no driver error, host or port): that is in the log.
    expect(health.result.body).toEqual({
      status: 'error',
      info: {},
      error: { redis: { status: 'down' } },
      details: { redis: { status: 'down' } },
    });
    expect(health.ms).toBeLessThan(FAST_MS);
    // Ready says why it is not, live says the process itself is fine (no restart would help).
    const ready = await fx.http().get('/health/ready').expect(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      reason: 'Redis does not answer',
      checks: { shutdown: 'up', redis: 'down' },
    });
    await fx.http().get('/health/live').expect(200);

    const me = await timed(() =>
      fx.http().get('/auth/me').set('Authorization', `Bearer ${alice.token}`),
    );
    expect(me.result.status).toBe(503);
    expect(me.result.body).toEqual(unavailable);
    expect(me.ms).toBeLessThan(FAST_MS);

    const patch = await timed(() =>
      fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send({ data: { a: 1 } }),
    );
    expect(patch.result.status).toBe(503);
    expect(patch.ms).toBeLessThan(FAST_MS);

    // Login goes through the rate limiter (Redis) first: 503, not 500.
    const login = await timed(() =>
      fx.http().post('/auth/login').send({ userId: 'alice', password: 'alice-demo-pass' }),
    );
    expect(login.result.status).toBe(503);
    expect(login.result.body).toEqual(unavailable);
    expect(login.ms).toBeLessThan(FAST_MS);

    // No I/O on /ping; bad input is still answered as such.
    await fx.http().get('/ping').expect(200, { pong: true });
    await fx.http().get('/auth/me').expect(401);
    await fx.http().post('/auth/login').send({ userId: 7 }).expect(400);

    const metrics = await fx.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /http_requests_total\{method="GET",route="\/auth\/me",status="503"\} 1/,
    );

    await server.restart();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fx.http().get('/health')).status;
      if (status === 200) break;
      await sleep(100);
    }
    expect(status).toBe(200);
    // The data died with the server (no persistence): the old token is now simply unknown.
    await fx.http().get('/auth/me').set('x-session-id', alice.token).expect(401);
    await fx.login('alice');
  });
});

describe('api started while Redis is unreachable', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    const port = await closedPort();
    fx = await createApiFixture('api-no-redis', { REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await fx.close();
    // The library's ioredis client lingers on its refused socket for disconnectTimeout (2 s)
    // after disconnect(); wait it out so jest exits cleanly.
    await sleep(2100);
  });

  it('starts, answers /ping, and answers 503 on /health, authenticated routes and login', async () => {
    await fx.http().get('/ping').expect(200);
    const health = await timed(() => fx.http().get('/health'));
    expect(health.result.status).toBe(503);
    expect(health.ms).toBeLessThan(FAST_MS);
    const ready = await fx.http().get('/health/ready').expect(503);
    expect(ready.body).toEqual({
      status: 'error',
      reason: 'Redis does not answer',
      checks: {
        shutdown: 'up',
        redis: 'down',
        invalidations: 'down',
        deploymentSettings: 'down',
      },
    });
    await fx.http().get('/health/live').expect(200);
    const token = `0-00000000-0000-4000-8000-000000000000.${'A'.repeat(43)}`;
    const me = await timed(() => fx.http().get('/auth/me').set('x-session-id', token));
    expect(me.result.status).toBe(503);
    expect(me.result.body).toEqual(unavailable);
    expect(me.ms).toBeLessThan(FAST_MS);
    const login = await fx
      .http()
      .post('/auth/login')
      .send({ userId: 'bob', password: 'bob-demo-pass' });
    expect(login.status).toBe(503);
    expect(login.body).toEqual(unavailable);
  });
});
