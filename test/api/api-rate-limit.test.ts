import { type ApiFixture, createApiFixture, DEMO_USERS } from './api-fixture';

const LIMIT = 3;
const X = '203.0.113.7';
const Y = '198.51.100.9';

const attempt = (f: ApiFixture, userId: string, password: string, from?: string) => {
  const req = f.http().post('/auth/login');
  if (from) req.set('X-Forwarded-For', from);
  return req.send({ userId, password });
};

/** How many answers of each status, e.g. { 401: 10, 429: 90 }. */
function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe('login rate limit (real Redis)', () => {
  let fx: ApiFixture;

  beforeEach(async () => {
    fx = await createApiFixture('api-rate', { LOGIN_RATE_LIMIT: String(LIMIT) });
  });
  afterEach(() => fx.close());

  it('answers 429 with Retry-After once a user id has failed from an address, even with the right password', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await attempt(fx, 'alice', 'wrong')).status).toBe(401);
    const refused = await attempt(fx, 'alice', DEMO_USERS.alice);
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

  it('counts failures only, in Redis under the session prefix, with a one-minute window', async () => {
    await attempt(fx, 'bob', 'wrong').expect(401);
    const keys = await fx.redis.keys(`${fx.prefix}:login-failures:*`);
    expect(keys.sort()).toEqual(
      [
        `${fx.prefix}:login-failures:ip:127.0.0.1`,
        `${fx.prefix}:login-failures:{bob}:ip:127.0.0.1`,
        `${fx.prefix}:login-failures:{bob}:user`,
      ].sort(),
    );
    for (const key of keys) {
      expect(await fx.redis.get(key)).toBe('1');
      const ttl = await fx.redis.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    // A success is given back: the counts stay at the one failure.
    await attempt(fx, 'bob', DEMO_USERS.bob).expect(201);
    for (const key of keys) expect(await fx.redis.get(key)).toBe('1');
  });

  it('never limits successful logins', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4 * LIMIT; i++) {
      statuses.push((await attempt(fx, 'alice', DEMO_USERS.alice)).status);
    }
    expect(tally(statuses)).toEqual({ 201: 4 * LIMIT });
  });

  it('applies the per-address limit across user ids, and a refused request counts against no user', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await attempt(fx, `guess-${i}`, 'x')).status).toBe(401);
    expect((await attempt(fx, 'bob', DEMO_USERS.bob)).status).toBe(429);
    for (let i = 0; i < 10; i++) expect((await attempt(fx, 'alice', 'wrong')).status).toBe(429);
    expect(await fx.redis.keys(`${fx.prefix}:login-failures:{alice}*`)).toEqual([]);
  });

  it('counts concurrent guesses before checking them: no burst slips under the limit', async () => {
    const statuses = (
      await Promise.all(Array.from({ length: 20 }, () => attempt(fx, 'alice', 'wrong')))
    ).map((r) => r.status);
    expect(tally(statuses)).toEqual({ 401: LIMIT, 429: 20 - LIMIT });
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
      expect((await attempt(other, 'alice', DEMO_USERS.alice)).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it('throttles no other route, even from an address over its login limit', async () => {
    for (let i = 0; i <= LIMIT; i++) await attempt(fx, `guess-${i}`, 'x');
    expect((await attempt(fx, 'alice', DEMO_USERS.alice)).status).toBe(429);
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
    expect(metrics.text).toMatch(/session_login_rate_limited_total\{scope="(ip|user-ip)"\} 1/);
    expect(metrics.text).toContain(`session_logins_total{result="failed"} ${LIMIT}`);
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: a client cannot pick its own bucket', async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await attempt(fx, 'alice', 'wrong', `192.0.2.${i}`)).status).toBe(401);
    }
    expect((await attempt(fx, 'alice', DEMO_USERS.alice, '192.0.2.200')).status).toBe(429);
  });
});

describe('login lock-out behind a proxy (TRUST_PROXY=loopback)', () => {
  let fx: ApiFixture;

  afterEach(() => fx.close());

  it('100 wrong passwords for alice from X do not stop alice logging in from Y', async () => {
    // The defaults: 10 failures a minute per address and per user from one address, 100 per user.
    fx = await createApiFixture('api-lockout', { LOGIN_RATE_LIMIT: '10', TRUST_PROXY: 'loopback' });
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await attempt(fx, 'alice', 'wrong', X)).status);
    console.log(`100 wrong passwords for alice from X: ${JSON.stringify(tally(statuses))}`);
    expect(tally(statuses)).toEqual({ 401: 10, 429: 90 });

    const fromY = await attempt(fx, 'alice', DEMO_USERS.alice, Y);
    expect(fromY.status).toBe(201);
    // X itself stays limited, for alice and for anyone else.
    expect((await attempt(fx, 'alice', DEMO_USERS.alice, X)).status).toBe(429);
    expect((await attempt(fx, 'bob', DEMO_USERS.bob, X)).status).toBe(429);
    // The address in the logs and limits is the client's, from the trusted proxy's header.
    expect(await fx.redis.exists(`${fx.prefix}:login-failures:ip:${X}`)).toBe(1);
  });

  it('locks a user out for everyone only past the per-user ceiling, which takes several addresses', async () => {
    fx = await createApiFixture('api-ceiling', {
      LOGIN_RATE_LIMIT: String(LIMIT),
      LOGIN_USER_FAILURE_LIMIT: '7',
      TRUST_PROXY: 'loopback',
    });
    const statuses: number[] = [];
    // Each address stops at LIMIT failures, so reaching 7 takes three addresses.
    for (const from of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      for (let i = 0; i < LIMIT; i++) statuses.push((await attempt(fx, 'alice', 'x', from)).status);
    }
    expect(tally(statuses)).toEqual({ 401: 7, 429: 2 });
    const refused = await attempt(fx, 'alice', DEMO_USERS.alice, Y);
    expect(refused.status).toBe(429);
    const metrics = await fx.http().get('/metrics');
    expect(metrics.text).toMatch(/session_login_rate_limited_total\{scope="user"\} [1-9]/);
    // Other users are untouched.
    expect((await attempt(fx, 'bob', DEMO_USERS.bob, Y)).status).toBe(201);
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
    expect(await fx.redis.keys(`${fx.prefix}:login-failures:*`)).toEqual([]);
  });
});
