import {
  type ApiFixture,
  cookieAttributes,
  createApiFixture,
  DEMO_USERS,
  sleep,
} from './api-fixture';

const EVIL = 'https://evil.example';

describe('session cookie with Secure (production default): __Host- prefix', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-host-cookie', { SESSION_COOKIE_SECURE: 'true' });
  });
  afterAll(() => fx.close());

  it('is __Host-session_id: Secure, Path=/, no Domain', async () => {
    const alice = await fx.login('alice');
    expect(alice.setCookie.startsWith(`__Host-session_id=${alice.token};`)).toBe(true);
    const attributes = cookieAttributes(alice.setCookie);
    expect(attributes.has('secure')).toBe(true);
    expect(attributes.get('path')).toBe('/');
    expect(attributes.has('domain')).toBe(false);
  });

  it('ignores a session_id cookie planted beside it (e.g. by a sibling subdomain)', async () => {
    const alice = await fx.login('alice');
    const bob = await fx.login('bob');
    const me = await fx
      .http()
      .get('/auth/me')
      .set('Cookie', `session_id=${bob.token}; ${alice.cookie}`)
      .expect(200);
    expect(me.body).toMatchObject({ userId: 'alice' });
    // Planted alone, it authenticates nobody.
    await fx.http().get('/auth/me').set('Cookie', `session_id=${bob.token}`).expect(401);
  });
});

describe('session cookie lifetime and replacement', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-cookie-life', {
      SESSION_IDLE_TTL_SECONDS: '3600',
      SESSION_ABSOLUTE_TTL_SECONDS: '7200',
    });
  });
  afterAll(() => fx.close());

  it('gives a rotated cookie what remains of the absolute lifetime (Max-Age), not the full one', async () => {
    const alice = await fx.login('alice');
    // Never past the session's end: a fresh login's cookie ends within a second of 7200 s.
    expect(Number(cookieAttributes(alice.setCookie).get('max-age'))).toBeGreaterThanOrEqual(7199);
    await sleep(2100);
    const before = Date.now();
    const rotated = await fx
      .http()
      .post('/auth/rotate')
      .set('Cookie', alice.cookie)
      .set('x-csrf-token', alice.csrfToken)
      .expect(201);
    const after = Date.now();
    const setCookie = [rotated.headers['set-cookie']].flat().join('\n');
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
    const me = await fx
      .http()
      .get('/auth/me')
      .set('x-session-id', (rotated.body as { token: string }).token)
      .expect(200);
    const { absoluteExpiresAt } = me.body as { absoluteExpiresAt: number };
    console.log(`rotate after 2.1 s of a 7200 s session: Max-Age=${maxAge}`);
    expect(maxAge).toBeLessThanOrEqual(7198);
    expect(maxAge).toBeLessThanOrEqual(Math.floor((absoluteExpiresAt - before) / 1000));
    expect(maxAge).toBeGreaterThanOrEqual(Math.floor((absoluteExpiresAt - after) / 1000) - 1);
  });

  it('ends the session a browser’s cookie held when it logs in again', async () => {
    const first = await fx.login('alice');
    const again = await fx
      .http()
      .post('/auth/login')
      .set('Cookie', first.cookie)
      .send({ userId: 'bob', password: DEMO_USERS.bob })
      .expect(201);
    await fx.http().get('/auth/me').set('x-session-id', first.token).expect(401);
    const second = (again.body as { token: string }).token;
    await fx.http().get('/auth/me').set('x-session-id', second).expect(200);
  });

  it('leaves a header or bearer client’s other sessions alone', async () => {
    const first = await fx.login('alice');
    await fx
      .http()
      .post('/auth/login')
      .set('Authorization', `Bearer ${first.token}`)
      .send({ userId: 'alice', password: DEMO_USERS.alice })
      .expect(201);
    await fx.http().get('/auth/me').set('x-session-id', first.token).expect(200);
  });
});

describe('cross-site login and cookie writes (Origin, Sec-Fetch-Site)', () => {
  let fx: ApiFixture;
  const login = (headers: Record<string, string>) =>
    fx
      .http()
      .post('/auth/login')
      .set(headers)
      .send({ userId: 'alice', password: DEMO_USERS.alice });

  beforeAll(async () => {
    fx = await createApiFixture('api-origin', { ALLOWED_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => fx.close());

  it('refuses a login sent by a browser from another site (login CSRF)', async () => {
    const refused = await login({ Origin: EVIL }).expect(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      message: 'Cross-site request refused',
      error: 'Forbidden',
    });
    expect(refused.headers['set-cookie']).toBeUndefined();
    await login({ 'Sec-Fetch-Site': 'cross-site' }).expect(403);
    await login({ 'Sec-Fetch-Site': 'same-site' }).expect(403);
    await login({ Origin: 'null' }).expect(403);
  });

  it('lets the same origin, an allowed origin and non-browser clients log in', async () => {
    await login({ Origin: fx.url }).expect(201);
    await login({ Origin: fx.url, 'Sec-Fetch-Site': 'same-origin' }).expect(201);
    await login({ 'Sec-Fetch-Site': 'same-origin' }).expect(201);
    await login({ Origin: 'https://app.example.com', 'Sec-Fetch-Site': 'cross-site' }).expect(201);
    await login({ 'Sec-Fetch-Site': 'none' }).expect(201);
    await login({}).expect(201);
  });

  it('refuses a cross-site write carrying the cookie, even with the CSRF token', async () => {
    const alice = await fx.login('alice');
    const patch = (headers: Record<string, string>) =>
      fx
        .http()
        .patch('/sessions/current')
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', alice.csrfToken)
        .set(headers)
        .send({ data: { theme: 'dark' } });
    await patch({ Origin: EVIL }).expect(403);
    await patch({ 'Sec-Fetch-Site': 'cross-site' }).expect(403);
    await patch({ Origin: fx.url }).expect(200);
    await patch({}).expect(200);
    // Reads with the cookie, and writes authenticated by a header, are not concerned.
    await fx.http().get('/auth/me').set('Cookie', alice.cookie).set('Origin', EVIL).expect(200);
    await fx
      .http()
      .patch('/sessions/current')
      .set('Authorization', `Bearer ${alice.token}`)
      .set('Origin', EVIL)
      .send({ data: { theme: 'light' } })
      .expect(200);
  });
});
