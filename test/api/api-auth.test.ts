import {
  type ApiFixture,
  cookieAttributes,
  createApiFixture,
  sessionCookieOf,
} from './api-fixture';

describe('api auth routes (real Redis)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-auth');
  });
  afterAll(() => fx.close());

  describe('POST /auth/login', () => {
    it('answers 201 with the session, its roles and a CSRF token, and stores roles and meta', async () => {
      const response = await fx
        .http()
        .post('/auth/login')
        .set('User-Agent', 'jest-agent/1.0')
        .send({ userId: 'alice', password: 'alice-demo-pass' })
        .expect(201);
      const body = response.body as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(
        ['csrfToken', 'expiresAt', 'roles', 'sessionId', 'token', 'userId'].sort(),
      );
      expect(body).toMatchObject({ userId: 'alice', roles: ['user'] });
      expect(String(body.token).startsWith(`${String(body.sessionId)}.`)).toBe(true);
      expect(body.expiresAt).toBeGreaterThan(Date.now());

      const session = await fx.sessions.validate(body.token);
      expect(session).toMatchObject({
        userId: 'alice',
        data: { roles: ['user'] },
        userAgent: 'jest-agent/1.0',
        csrfToken: body.csrfToken,
      });
      expect(session?.ip).toMatch(/127\.0\.0\.1/);
    });

    it('forbids caching any answer that carries a token, a CSRF token or session data', async () => {
      const login = await fx
        .http()
        .post('/auth/login')
        .send({ userId: 'alice', password: 'alice-demo-pass' })
        .expect(201);
      const token = (login.body as { token: string }).token;
      const me = await fx
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      const rotate = await fx
        .http()
        .post('/auth/rotate')
        .set('Authorization', `Bearer ${token}`)
        .expect(201);
      const refused = await fx.http().get('/auth/me');
      for (const response of [login, me, rotate, refused]) {
        expect(response.headers['cache-control']).toBe('no-store');
        expect(response.headers.etag).toBeUndefined();
      }
    });

    it('sets session_id HttpOnly, SameSite=Lax, Path=/ and without Secure when not configured', async () => {
      const { setCookie, token } = await fx.login('bob');
      expect(setCookie.startsWith(`session_id=${token};`)).toBe(true);
      const attributes = cookieAttributes(setCookie);
      expect(attributes.has('httponly')).toBe(true);
      expect(attributes.get('samesite')).toBe('Lax');
      expect(attributes.get('path')).toBe('/');
      expect(attributes.has('secure')).toBe(false);
    });

    it('answers 401 with one message for a wrong password and for an unknown user', async () => {
      const wrong = await fx.http().post('/auth/login').send({ userId: 'alice', password: 'nope' });
      const unknown = await fx
        .http()
        .post('/auth/login')
        .send({ userId: 'mallory', password: 'nope' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body).toEqual({
        statusCode: 401,
        message: 'Invalid user id or password',
        error: 'Unauthorized',
      });
      expect(unknown.body).toEqual(wrong.body);
      expect(sessionCookieOf(wrong.headers)).toBeUndefined();
    });

    it('spends the same hashing work on an unknown user as on a wrong password', async () => {
      const time = async (userId: string) => {
        const started = process.hrtime.bigint();
        await fx
          .http()
          .post('/auth/login')
          .send({ userId, password: 'wrong-password' })
          .expect(401);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const median = (values: number[]) =>
        values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        known.push(await time('alice'));
        unknown.push(await time(`nobody-${i}`));
      }
      // Without the dummy hash an unknown user would answer in a small fraction of the time.
      expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
      expect(median(known)).toBeGreaterThan(median(unknown) * 0.4);
    });

    it.each([
      ['no body', undefined],
      ['an array', [{ userId: 'alice', password: 'alice-demo-pass' }]],
      ['a missing password', { userId: 'alice' }],
      ['a numeric userId', { userId: 42, password: 'x' }],
      ['an object password', { userId: 'alice', password: { $ne: '' } }],
      ['an empty userId', { userId: '', password: 'x' }],
      ['a userId with control characters', { userId: 'ali\u0000ce', password: 'x' }],
      ['an over-long userId', { userId: 'a'.repeat(300), password: 'x' }],
      ['an over-long password', { userId: 'alice', password: 'p'.repeat(2000) }],
    ])('answers 400 to %s', async (_, body) => {
      const call = fx.http().post('/auth/login');
      const response = body === undefined ? await call : await call.send(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(typeof (response.body as { message: unknown }).message).toBe('string');
    });
  });

  describe('GET /auth/me', () => {
    it('answers the session by cookie, x-session-id header and bearer token', async () => {
      const alice = await fx.login('alice');
      const byCookie = await fx.http().get('/auth/me').set('Cookie', alice.cookie).expect(200);
      const byHeader = await fx.http().get('/auth/me').set('x-session-id', alice.token).expect(200);
      const byBearer = await fx
        .http()
        .get('/auth/me')
        .set('Authorization', `Bearer ${alice.token}`)
        .expect(200);
      for (const response of [byCookie, byHeader, byBearer]) {
        expect(response.body).toMatchObject({
          userId: 'alice',
          sessionId: alice.sessionId,
          roles: ['user'],
          data: { roles: ['user'] },
          csrfToken: alice.csrfToken,
        });
        const body = response.body as Record<string, number>;
        for (const field of ['createdAt', 'lastAccessedAt', 'expiresAt', 'absoluteExpiresAt']) {
          expect(typeof body[field]).toBe('number');
        }
        expect(body.absoluteExpiresAt).toBeGreaterThanOrEqual(body.expiresAt);
      }
      expect(Object.keys(byCookie.body as object).sort()).toEqual(
        [
          'absoluteExpiresAt',
          'createdAt',
          'csrfToken',
          'data',
          'expiresAt',
          'lastAccessedAt',
          'roles',
          'sessionId',
          'userId',
        ].sort(),
      );
    });

    it.each([
      ['no credentials', {}],
      ['a malformed token', { 'x-session-id': 'not-a-token' }],
      [
        'a forged secret',
        { Authorization: 'Bearer 0-00000000-0000-4000-8000-000000000000.' + 'A'.repeat(43) },
      ],
      ['a garbage cookie', { Cookie: 'session_id=%%%garbage' }],
    ])('answers 401 with %s', async (_, headers: Record<string, string>) => {
      const response = await fx.http().get('/auth/me').set(headers);
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });
  });

  describe('CSRF on cookie-authenticated writes', () => {
    it('refuses a cookie POST without x-csrf-token (403) and accepts it with the token', async () => {
      const alice = await fx.login('alice');
      const refused = await fx.http().post('/auth/rotate').set('Cookie', alice.cookie);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      const wrong = await fx
        .http()
        .post('/auth/rotate')
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', 'wrong');
      expect(wrong.status).toBe(403);
      // The refused requests changed nothing: the session still works.
      await fx.http().get('/auth/me').set('Cookie', alice.cookie).expect(200);
      await fx
        .http()
        .post('/auth/rotate')
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', alice.csrfToken)
        .expect(201);
    });

    it('applies to PATCH and DELETE too', async () => {
      const alice = await fx.login('alice');
      await fx
        .http()
        .patch('/sessions/current')
        .set('Cookie', alice.cookie)
        .send({ data: { theme: 'dark' } })
        .expect(403);
      await fx
        .http()
        .delete(`/sessions/${alice.sessionId}`)
        .set('Cookie', alice.cookie)
        .expect(403);
      await fx
        .http()
        .patch('/sessions/current')
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', alice.csrfToken)
        .send({ data: { theme: 'dark' } })
        .expect(200);
    });

    it('needs no CSRF token with header or bearer authentication', async () => {
      const alice = await fx.login('alice');
      await fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send({ data: { a: 1 } })
        .expect(200);
      await fx
        .http()
        .patch('/sessions/current')
        .set('Authorization', `Bearer ${alice.token}`)
        .send({ data: { b: 2 } })
        .expect(200);
    });
  });

  describe('POST /auth/logout', () => {
    it('answers 204, clears the cookie and kills the token', async () => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .post('/auth/logout')
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', alice.csrfToken)
        .expect(204);
      const cleared = sessionCookieOf(response.headers);
      expect(cleared).toBeDefined();
      expect(cleared!.startsWith('session_id=;')).toBe(true);
      const attributes = cookieAttributes(cleared!);
      expect(attributes.get('max-age')).toBe('0');
      expect(attributes.get('path')).toBe('/');
      expect(new Date(attributes.get('expires')!).getTime()).toBeLessThan(Date.now());

      await fx.http().get('/auth/me').set('Cookie', alice.cookie).expect(401);
      await fx.http().get('/auth/me').set('Authorization', `Bearer ${alice.token}`).expect(401);
      expect(await fx.sessions.validate(alice.token)).toBeNull();
    });

    it('works with bearer authentication and needs a session', async () => {
      const bob = await fx.login('bob');
      await fx.http().post('/auth/logout').set('Authorization', `Bearer ${bob.token}`).expect(204);
      await fx.http().get('/auth/me').set('x-session-id', bob.token).expect(401);
      await fx.http().post('/auth/logout').expect(401);
    });
  });

  describe('POST /auth/rotate', () => {
    it('issues a new token, replaces the cookie and rejects the old token at once', async () => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .post('/auth/rotate')
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', alice.csrfToken)
        .expect(201);
      const body = response.body as { sessionId: string; token: string; csrfToken: string };
      expect(body.sessionId).not.toBe(alice.sessionId);
      expect(body.token.startsWith(`${body.sessionId}.`)).toBe(true);
      expect(body.csrfToken).not.toBe(alice.csrfToken);
      expect(sessionCookieOf(response.headers)?.startsWith(`session_id=${body.token};`)).toBe(true);

      await fx.http().get('/auth/me').set('Cookie', alice.cookie).expect(401);
      const me = await fx
        .http()
        .get('/auth/me')
        .set('Cookie', `session_id=${body.token}`)
        .expect(200);
      expect(me.body).toMatchObject({
        userId: 'alice',
        sessionId: body.sessionId,
        csrfToken: body.csrfToken,
      });
    });

    it('sets no cookie when the request used a bearer token', async () => {
      const bob = await fx.login('bob');
      const response = await fx
        .http()
        .post('/auth/rotate')
        .set('Authorization', `Bearer ${bob.token}`)
        .expect(201);
      expect(sessionCookieOf(response.headers)).toBeUndefined();
      await fx.http().get('/auth/me').set('Authorization', `Bearer ${bob.token}`).expect(401);
      const { token } = response.body as { token: string };
      await fx.http().get('/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    });
  });
});

describe('api with SESSION_COOKIE_SECURE=true', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-secure', { SESSION_COOKIE_SECURE: 'true' });
  });
  afterAll(() => fx.close());

  it('marks the session cookie Secure, on login and when clearing it', async () => {
    const alice = await fx.login('alice');
    expect(cookieAttributes(alice.setCookie).has('secure')).toBe(true);
    const response = await fx
      .http()
      .post('/auth/logout')
      .set('x-session-id', alice.token)
      .expect(204);
    expect(cookieAttributes(sessionCookieOf(response.headers)!).has('secure')).toBe(true);
  });
});
