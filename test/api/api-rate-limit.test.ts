import { LoginRateLimiter } from '../../apps/api/src/auth/login-rate-limiter';
import { type ApiFixture, createApiFixture } from './api-fixture';

const LIMIT = 3;

describe('login rate limit (real Redis)', () => {
  let fx: ApiFixture;

  beforeEach(async () => {
    fx = await createApiFixture('api-rate', { LOGIN_RATE_LIMIT: String(LIMIT) });
  });
  afterEach(() => fx.close());

  const attempt = (f: ApiFixture, userId: string, password: string) =>
    f.http().post('/auth/login').send({ userId, password });

  it('answers 429 with Retry-After once a user id has used its attempts, even with the right password', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await attempt(fx, 'alice', 'wrong')).status).toBe(401);
    const refused = await attempt(fx, 'alice', 'alice-demo-pass');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      statusCode: 429,
      message: 'Too many login attempts, try again later',
      error: 'Too Many Requests',
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('counts in Redis under the session prefix with a one-minute window', async () => {
    await attempt(fx, 'bob', 'wrong').expect(401);
    const userKey = `${fx.prefix}:login-attempts:user:bob`;
    expect(await fx.redis.get(userKey)).toBe('1');
    const ttl = await fx.redis.pttl(userKey);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const ipKeys = await fx.redis.keys(`${fx.prefix}:login-attempts:ip:*`);
    expect(ipKeys).toHaveLength(1);
  });

  it('limits per user id and per IP independently', async () => {
    const limiter = fx.app.get(LoginRateLimiter);
    for (let i = 0; i < LIMIT; i++) {
      expect(await limiter.hit('carol', `10.0.0.${i}`)).toEqual({ allowed: true });
    }
    // carol is over her limit from any address...
    expect(await limiter.hit('carol', '10.0.0.99')).toMatchObject({
      allowed: false,
      scope: 'user',
    });
    // ...while other users from those addresses are not.
    expect(await limiter.hit('dave', '10.0.0.1')).toEqual({ allowed: true });

    for (let i = 0; i < LIMIT; i++) {
      expect(await limiter.hit(`user-${i}`, '192.0.2.7')).toEqual({ allowed: true });
    }
    // One address is limited whatever user ids it tries.
    expect(await limiter.hit('someone-new', '192.0.2.7')).toMatchObject({
      allowed: false,
      scope: 'ip',
    });
  });

  it('applies the per-IP limit across user ids over HTTP', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await attempt(fx, `guess-${i}`, 'x')).status).toBe(401);
    expect((await attempt(fx, 'bob', 'bob-demo-pass')).status).toBe(429);
  });

  it('holds across api instances sharing Redis', async () => {
    const other = await createApiFixture('api-rate-2', {
      LOGIN_RATE_LIMIT: String(LIMIT),
      SESSION_PREFIX: fx.prefix,
    });
    try {
      expect((await attempt(fx, 'alice', 'wrong')).status).toBe(401);
      expect((await attempt(other, 'alice', 'wrong')).status).toBe(401);
      expect((await attempt(fx, 'alice', 'wrong')).status).toBe(401);
      expect((await attempt(other, 'alice', 'alice-demo-pass')).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it('throttles no other route, even from an address over its login limit', async () => {
    for (let i = 0; i <= LIMIT; i++) await attempt(fx, `guess-${i}`, 'x');
    expect((await attempt(fx, 'alice', 'alice-demo-pass')).status).toBe(429);
    const created = await fx.sessions.create('alice', { roles: ['user'] });
    const results = await Promise.all(
      Array.from({ length: 3 * LIMIT }, (_, i) =>
        i % 2
          ? fx.http().get('/ping')
          : fx.http().get('/auth/me').set('x-session-id', created.token),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(3 * LIMIT).fill(200));
  });

  it('counts the refusal in /metrics', async () => {
    for (let i = 0; i <= LIMIT; i++) await attempt(fx, 'alice', 'wrong');
    const metrics = await fx.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/session_login_rate_limited_total\{scope="(user|ip)"\} 1/);
    expect(metrics.text).toContain(`session_logins_total{result="failed"} ${LIMIT}`);
  });
});

describe('login rate limit turned off (LOGIN_RATE_LIMIT=0)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-rate-off', { LOGIN_RATE_LIMIT: '0' });
  });
  afterAll(() => fx.close());

  it('never answers 429 and writes no counters', async () => {
    for (let i = 0; i < 12; i++) {
      expect(
        (await fx.http().post('/auth/login').send({ userId: 'alice', password: 'no' })).status,
      ).toBe(401);
    }
    await fx
      .http()
      .post('/auth/login')
      .send({ userId: 'alice', password: 'alice-demo-pass' })
      .expect(201);
    expect(await fx.redis.keys(`${fx.prefix}:login-attempts:*`)).toEqual([]);
  });
});
