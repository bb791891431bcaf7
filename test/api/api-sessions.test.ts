import { type ApiFixture, createApiFixture, type LoggedIn, sessionCookieOf } from './api-fixture';

describe('api session routes (real Redis)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-sessions');
  });
  afterAll(() => fx.close());

  /** Writes the per-user index as the worker would (it is not running in these tests). */
  async function indexSessions(userId: string, ...sessions: LoggedIn[]): Promise<void> {
    const key = fx.sessions.keys.userSessions(userId);
    for (const session of sessions) await fx.redis.zadd(key, Date.now(), session.sessionId);
  }

  describe('PATCH /sessions/current', () => {
    it('merges the data and answers the merged result', async () => {
      const alice = await fx.login('alice');
      const auth = { Authorization: `Bearer ${alice.token}` };
      const first = await fx
        .http()
        .patch('/sessions/current')
        .set(auth)
        .send({ data: { theme: 'dark', cart: { items: 2 } } })
        .expect(200);
      expect(first.body).toEqual({ data: { roles: ['user'], theme: 'dark', cart: { items: 2 } } });
      const second = await fx
        .http()
        .patch('/sessions/current')
        .set(auth)
        .send({ data: { theme: 'light', cart: null } })
        .expect(200);
      expect(second.body).toEqual({ data: { roles: ['user'], theme: 'light' } });
      const me = await fx.http().get('/auth/me').set(auth).expect(200);
      expect((me.body as { data: unknown }).data).toEqual({ roles: ['user'], theme: 'light' });
    });

    it.each([
      ['password at the top', { password: 'hunter2' }],
      ['a nested password', { profile: { settings: { newPassword: 'x' } } }],
      ['a card number in an array', { payments: [{ cardNumber: '4111111111111111' }] }],
    ])('answers 400 to %s and stores nothing', async (_, data) => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send({ data })
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect((response.body as { message: string }).message).toMatch(/never stored in a session/);
      const session = await fx.sessions.validate(alice.token);
      expect(session?.data).toEqual({ roles: ['user'] });
    });

    it('answers 413 when the data is over the size limit', async () => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send({ data: { blob: 'x'.repeat(5000) } })
        .expect(413);
      expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect((await fx.sessions.validate(alice.token))?.data).toEqual({ roles: ['user'] });
    });

    it('answers 413 when many small patches add up over the limit', async () => {
      const alice = await fx.login('alice');
      const patch = (key: string) =>
        fx
          .http()
          .patch('/sessions/current')
          .set('x-session-id', alice.token)
          .send({ data: { [key]: 'y'.repeat(1500) } });
      expect((await patch('a')).status).toBe(200);
      expect((await patch('b')).status).toBe(200);
      expect((await patch('c')).status).toBe(413);
    });

    it.each([
      ['roles', { roles: ['admin'] }],
      ['roles removed with null', { roles: null }],
      ['Roles in another spelling', { Roles: ['admin'] }],
    ])('refuses to let the client write %s (400)', async (_, data) => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send({ data })
        .expect(400);
      expect((response.body as { message: string }).message).toMatch(/server-owned/);
      // Still a plain user: the admin route stays closed.
      await fx
        .http()
        .delete('/admin/users/bob/sessions')
        .set('x-session-id', alice.token)
        .expect(403);
    });

    it.each([
      ['no data', {}],
      ['data as an array', { data: [1, 2] }],
      ['data as a string', { data: 'x' }],
      ['an empty patch', { data: {} }],
      ['a reserved key', { data: JSON.parse('{"__proto__": {"x": 1}}') as object }],
      ['an over-long key', { data: { ['k'.repeat(200)]: 1 } }],
    ])('answers 400 to %s', async (_, body) => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send(body)
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  describe('DELETE /sessions/:sessionId', () => {
    it('revokes another session of the caller (204) and the current one survives', async () => {
      const phone = await fx.login('alice');
      const laptop = await fx.login('alice');
      await fx
        .http()
        .delete(`/sessions/${phone.sessionId}`)
        .set('Cookie', laptop.cookie)
        .set('x-csrf-token', laptop.csrfToken)
        .expect(204);
      await fx.http().get('/auth/me').set('x-session-id', phone.token).expect(401);
      await fx.http().get('/auth/me').set('x-session-id', laptop.token).expect(200);
      // Gone now: a second delete is a 404.
      await fx
        .http()
        .delete(`/sessions/${phone.sessionId}`)
        .set('x-session-id', laptop.token)
        .expect(404);
    });

    it('revoking the current session by cookie also clears the cookie', async () => {
      const alice = await fx.login('alice');
      const response = await fx
        .http()
        .delete(`/sessions/${alice.sessionId}`)
        .set('Cookie', alice.cookie)
        .set('x-csrf-token', alice.csrfToken)
        .expect(204);
      expect(sessionCookieOf(response.headers)?.startsWith('session_id=;')).toBe(true);
      await fx.http().get('/auth/me').set('Cookie', alice.cookie).expect(401);
    });

    it('answers 404 for another user’s session and leaves it alive', async () => {
      const alice = await fx.login('alice');
      const bob = await fx.login('bob');
      const response = await fx
        .http()
        .delete(`/sessions/${bob.sessionId}`)
        .set('x-session-id', alice.token)
        .expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        message: 'Session not found',
        error: 'Not Found',
      });
      await fx.http().get('/auth/me').set('x-session-id', bob.token).expect(200);
    });

    it.each([
      'not-a-session-id',
      '999-00000000-0000-4000-8000-000000000000',
      '1-00000000-0000-4000-8000-000000000000',
      'x'.repeat(300),
      '%2e%2e',
    ])('answers 404 to the malformed or unknown id %s', async (id) => {
      const alice = await fx.login('alice');
      const response = await fx.http().delete(`/sessions/${id}`).set('x-session-id', alice.token);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        statusCode: 404,
        message: 'Session not found',
        error: 'Not Found',
      });
    });
  });

  describe('POST /sessions/revoke-others', () => {
    it('revokes the caller’s other sessions, reports the indexed count and keeps the current one', async () => {
      const current = await fx.login('bob');
      const other1 = await fx.login('bob');
      const other2 = await fx.login('bob');
      const alice = await fx.login('alice');
      await indexSessions('bob', current, other1, other2);

      const response = await fx
        .http()
        .post('/sessions/revoke-others')
        .set('Cookie', current.cookie)
        .set('x-csrf-token', current.csrfToken)
        .expect(200);
      expect(response.body).toEqual({ revoked: 2 });

      await fx.http().get('/auth/me').set('x-session-id', current.token).expect(200);
      await fx.http().get('/auth/me').set('x-session-id', other1.token).expect(401);
      await fx.http().get('/auth/me').set('x-session-id', other2.token).expect(401);
      // Another user's sessions are not touched.
      await fx.http().get('/auth/me').set('x-session-id', alice.token).expect(200);
    });

    it('revokes unindexed sessions too (the count may lag the worker)', async () => {
      const current = await fx.login('alice');
      const unindexed = await fx.login('alice');
      const response = await fx
        .http()
        .post('/sessions/revoke-others')
        .set('Authorization', `Bearer ${current.token}`)
        .expect(200);
      // The count is of indexed sessions: the other one is counted once the worker indexed it.
      expect([0, 1]).toContain((response.body as { revoked: number }).revoked);
      await fx.http().get('/auth/me').set('x-session-id', unindexed.token).expect(401);
      await fx.http().get('/auth/me').set('x-session-id', current.token).expect(200);
    });

    it('needs a session', async () => {
      await fx.http().post('/sessions/revoke-others').expect(401);
    });
  });

  describe('DELETE /admin/users/:userId/sessions', () => {
    it('answers 403 to a user without the admin role and revokes nothing', async () => {
      const alice = await fx.login('alice');
      const bob = await fx.login('bob');
      const response = await fx
        .http()
        .delete('/admin/users/bob/sessions')
        .set('Authorization', `Bearer ${alice.token}`)
        .expect(403);
      expect(response.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      await fx.http().get('/auth/me').set('x-session-id', bob.token).expect(200);
    });

    it('answers 401 without a session', async () => {
      await fx.http().delete('/admin/users/bob/sessions').expect(401);
    });

    it('lets an admin revoke every session of a user and reports the count', async () => {
      const admin = await fx.login('admin');
      const bob1 = await fx.login('bob');
      const bob2 = await fx.login('bob');
      // Index exactly these two (earlier tests left other sessions of bob, unindexed now).
      await fx.redis.del(fx.sessions.keys.userSessions('bob'));
      await indexSessions('bob', bob1, bob2);
      const alice = await fx.login('alice');

      const response = await fx
        .http()
        .delete('/admin/users/bob/sessions')
        .set('Cookie', admin.cookie)
        .set('x-csrf-token', admin.csrfToken)
        .expect(200);
      expect(response.body).toEqual({ revoked: 2 });
      await fx.http().get('/auth/me').set('x-session-id', bob1.token).expect(401);
      await fx.http().get('/auth/me').set('x-session-id', bob2.token).expect(401);
      await fx.http().get('/auth/me').set('x-session-id', alice.token).expect(200);
      await fx.http().get('/auth/me').set('x-session-id', admin.token).expect(200);
      // A session opened after the revocation works.
      const again = await fx.login('bob');
      await fx.http().get('/auth/me').set('x-session-id', again.token).expect(200);
    });

    it('needs the CSRF token when the admin uses the cookie', async () => {
      const admin = await fx.login('admin');
      await fx.http().delete('/admin/users/bob/sessions').set('Cookie', admin.cookie).expect(403);
    });

    it('answers 404 to an unknown user id and writes no revoke-all epoch for it', async () => {
      const admin = await fx.login('admin');
      const keys = fx.sessions.keys;
      for (let i = 0; i < 20; i++) {
        const userId = `nobody-${i}`;
        const response = await fx
          .http()
          .delete(`/admin/users/${userId}/sessions`)
          .set('x-session-id', admin.token)
          .expect(404);
        expect(response.body).toMatchObject({ statusCode: 404, message: 'No such user' });
        expect(
          await fx.redis.hexists(keys.revocationEpochs(keys.partitionOf(userId)), userId),
        ).toBe(0);
      }
    });

    it('still ends the indexed sessions of a user id no longer in the users file', async () => {
      const admin = await fx.login('admin');
      const gone = await fx.sessions.create('former-employee', { roles: ['user'] });
      await fx.redis.zadd(
        fx.sessions.keys.userSessions('former-employee'),
        Date.now(),
        gone.sessionId,
      );
      await fx
        .http()
        .delete('/admin/users/former-employee/sessions')
        .set('x-session-id', admin.token)
        .expect(200, { revoked: 1 });
      await fx.http().get('/auth/me').set('x-session-id', gone.token).expect(401);
    });

    it('answers 400 to a malformed user id', async () => {
      const admin = await fx.login('admin');
      const response = await fx
        .http()
        .delete(`/admin/users/${'u'.repeat(300)}/sessions`)
        .set('x-session-id', admin.token)
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });
});
