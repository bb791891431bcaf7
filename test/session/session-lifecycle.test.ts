import { createHash } from 'node:crypto';
import { COMPACT_EVENT_VERSION, SessionNotFoundError, parseSessionEvent } from '@app/session';
import {
  allKeys,
  createSessionFixture,
  otherSessionId,
  readAllEvents,
  type SessionFixture,
} from './session-fixture';

// The same behaviour with and without the local cache: only the speed may differ.
describe.each([
  ['with the local cache', true],
  ['without the local cache', false],
])('SessionService lifecycle against real Redis, %s', (_, cacheEnabled) => {
  let fx: SessionFixture;

  beforeAll(async () => {
    fx = await createSessionFixture('lifecycle', { cache: { enabled: cacheEnabled } });
  });
  afterAll(() => fx.close());

  it('creates a session whose token validates to the stored data and metadata', async () => {
    const created = await fx.service.create(
      'alice',
      { roles: ['user'], theme: 'dark' },
      { userAgent: 'jest', ip: '10.0.0.1', deviceLabel: 'laptop' },
    );
    expect(created.token.startsWith(`${created.sessionId}.`)).toBe(true);
    expect(created.absoluteExpiresAt - created.createdAt).toBe(86_400_000);
    expect(created.expiresAt - created.createdAt).toBe(3_600_000);

    const session = await fx.service.validate(created.token);
    expect(session).toMatchObject({
      sessionId: created.sessionId,
      userId: 'alice',
      data: { roles: ['user'], theme: 'dark' },
      csrfToken: created.csrfToken,
      createdAt: created.createdAt,
      userAgent: 'jest',
      ip: '10.0.0.1',
      deviceLabel: 'laptop',
    });
  });

  it('stores only the SHA-256 of the secret, never the token', async () => {
    const created = await fx.service.create('bob');
    const secret = created.token.split('.')[1];
    const key = fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('bob'));
    const stored = await fx.redis.hgetall(key);
    // Format 2 (a new deployment): the 32 raw bytes of the digest.
    expect(await fx.redis.hgetBuffer(key, 'sh')).toEqual(
      createHash('sha256').update(secret).digest(),
    );
    const everything = JSON.stringify(stored) + JSON.stringify(await readAllEvents(fx));
    expect(everything).not.toContain(secret);
  });

  it('rejects a token with the right handle but a wrong secret, and says why', async () => {
    const created = await fx.service.create('carol');
    const forged = `${created.sessionId}.${'A'.repeat(43)}`;
    expect(await fx.service.verify(forged)).toEqual({ valid: false, reason: 'bad_secret' });
    const otherId = otherSessionId(created.sessionId);
    expect(await fx.service.verify(`${otherId}.${'A'.repeat(43)}`)).toEqual({
      valid: false,
      reason: 'unknown',
    });
    expect(await fx.service.verify('garbage')).toEqual({ valid: false, reason: 'malformed' });
  });

  it('compares the whole digest: a stored hash differing only in its last character is refused', async () => {
    const created = await fx.service.create('carl');
    const key = fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('carl'));
    const digest = createHash('sha256').update(created.token.split('.')[1]).digest('hex');
    const altered = digest.slice(0, -1) + (digest.endsWith('0') ? '1' : '0');
    await fx.redis.hset(key, 'sh', altered);
    await fx.service.flushAllCaches();
    expect(await fx.service.verify(created.token)).toEqual({ valid: false, reason: 'bad_secret' });
    await fx.redis.hset(key, 'sh', digest);
    expect((await fx.service.verify(created.token)).valid).toBe(true);
  });

  it('writes every state change and its event together, with schema version 1 and no token', async () => {
    const before = (await readAllEvents(fx)).length;
    const a = await fx.service.create('dave', { step: 1 });
    await fx.service.update(a.sessionId, { step: 2 });
    const rotated = await fx.service.rotate(a.token);
    await fx.service.revoke(rotated.sessionId, 'logout');
    await fx.service.revokeAllForUser('dave');

    const events = (await readAllEvents(fx)).slice(before).filter((e) => e.data.userId === 'dave');
    expect(events.map((e) => e.pattern)).toEqual([
      'session.created',
      'session.updated',
      'session.rotated',
      'session.revoked',
      'user.revoked',
    ]);
    for (const event of events) {
      expect(parseSessionEvent(event.data).type).toBe(event.pattern);
      expect(JSON.stringify(event.data)).not.toContain(a.token.split('.')[1]);
    }
    expect(events[1].data).toMatchObject({ sessionId: a.sessionId, keys: ['step'] });
    expect(events[2].data).toMatchObject({
      sessionId: rotated.sessionId,
      previousSessionId: a.sessionId,
    });
    expect(events[3].data).toMatchObject({ sessionId: rotated.sessionId, reason: 'logout' });
  });

  it('writes session.created with exactly the times it answered, whatever the user id', async () => {
    // The event's JSON is started in Node and finished in Lua: quotes, backslashes, `</` and
    // non-BMP characters in the user id must survive (control characters are refused anyway),
    // and the times stay integers.
    const userId = `we"ird\\ </user> ü 🙂 ${cacheEnabled}`;
    const created = await fx.service.create(
      userId,
      { n: 1 },
      { userAgent: 'ua/1', ip: '10.0.0.1' },
    );
    const [event] = (await readAllEvents(fx)).filter((e) => e.data.userId === userId);
    const stored = await fx.service.validate(created.token);
    expect(event.pattern).toBe('session.created');
    // Compact (format 2), read back in the long form, at its creation time.
    expect(parseSessionEvent(event.data)).toEqual({
      v: COMPACT_EVENT_VERSION,
      type: 'session.created',
      sessionId: created.sessionId,
      userId,
      createdAt: stored?.createdAt,
      expiresAt: created.expiresAt,
      absoluteExpiresAt: stored?.absoluteExpiresAt,
      at: expect.any(Number) as number,
    });
    expect(event.data.at).toBeLessThanOrEqual(stored!.createdAt);
    // The entry id comes from the same Redis clock, a moment later (or after the stream's last id).
    expect(Number(event.id.split('-')[0])).toBeGreaterThanOrEqual(event.data.at as number);
    expect(Number(event.id.split('-')[0])).toBeLessThan((event.data.at as number) + 1_000);
    expect(stored).toMatchObject({ userId, userAgent: 'ua/1', ip: '10.0.0.1', data: { n: 1 } });
  });

  it('puts all of a user’s keys and events under one hash tag', async () => {
    const created = await fx.service.create('erin');
    const tag = `{p${fx.service.keys.partitionOf('erin')}}`;
    expect(
      fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('erin')),
    ).toContain(tag);
    const event = (await readAllEvents(fx)).find((e) => e.data.sessionId === created.sessionId);
    expect(event).toBeDefined();
    const keysOfErin = (await allKeys(fx)).filter((k) => k.includes(created.sessionId));
    expect(keysOfErin.every((k) => k.includes(tag))).toBe(true);
  });

  it('update merges at the top level, null removes a key, and the merged data is returned', async () => {
    const created = await fx.service.create('frank', { a: 1, b: { nested: true }, c: 'x' });
    const data = await fx.service.update(created.sessionId, {
      b: { replaced: [] },
      c: null,
      d: 'new',
    });
    expect(data).toEqual({ a: 1, b: { replaced: [] }, d: 'new' });
    expect((await fx.service.validate(created.token))?.data).toEqual(data);
  });

  it('rotate gives a new id, secret and CSRF token for the same data; the old token dies at once', async () => {
    const created = await fx.service.create('grace', { cart: [1, 2] });
    const rotated = await fx.service.rotate(created.token);
    expect(rotated.sessionId).not.toBe(created.sessionId);
    expect(rotated.csrfToken).not.toBe(created.csrfToken);
    expect(rotated.previousSessionId).toBe(created.sessionId);
    expect(await fx.service.verify(created.token)).toEqual({ valid: false, reason: 'unknown' });
    const session = await fx.service.validate(rotated.token);
    expect(session).toMatchObject({
      userId: 'grace',
      data: { cart: [1, 2] },
      createdAt: created.createdAt,
      absoluteExpiresAt: created.absoluteExpiresAt,
    });
    await expect(fx.service.rotate(created.token)).rejects.toBeInstanceOf(SessionNotFoundError);
  });

  it('revoke ends one session; revoking again or another user’s session does nothing', async () => {
    const mine = await fx.service.create('heidi');
    const other = await fx.service.create('ivan');
    expect(await fx.service.revoke(other.sessionId, 'revoked', { userId: 'heidi' })).toBe(false);
    expect(await fx.service.validate(other.token)).not.toBeNull();
    expect(await fx.service.revoke(mine.sessionId)).toBe(true);
    expect(await fx.service.revoke(mine.sessionId)).toBe(false);
    expect(await fx.service.verify(mine.token)).toEqual({ valid: false, reason: 'unknown' });
  });

  it('revokeAllForUser rejects every session of the user at once, sessions created afterwards live', async () => {
    const s1 = await fx.service.create('judy');
    const s2 = await fx.service.create('judy');
    const bystander = await fx.service.create('mallory');
    await fx.service.revokeAllForUser('judy');
    expect(await fx.service.verify(s1.token)).toEqual({ valid: false, reason: 'revoked' });
    expect(await fx.service.verify(s2.token)).toEqual({ valid: false, reason: 'revoked' });
    expect(await fx.service.validate(bystander.token)).not.toBeNull();
    const after = await fx.service.create('judy');
    expect(await fx.service.validate(after.token)).not.toBeNull();
  });

  it('revokeOthers keeps the current session and rejects the rest, and a later revoke-all ends it too', async () => {
    const keep = await fx.service.create('ken');
    const other = await fx.service.create('ken');
    await fx.service.revokeOthers('ken', keep.sessionId);
    expect(await fx.service.validate(keep.token)).not.toBeNull();
    expect(await fx.service.verify(other.token)).toEqual({ valid: false, reason: 'revoked' });
    const rotated = await fx.service.rotate(keep.token);
    expect(await fx.service.validate(rotated.token)).not.toBeNull();
    await fx.service.revokeAllForUser('ken');
    expect(await fx.service.verify(rotated.token)).toEqual({ valid: false, reason: 'revoked' });
  });

  it('revokeOthers refuses to keep a session of another user', async () => {
    const theirs = await fx.service.create('leo');
    await expect(fx.service.revokeOthers('mia', theirs.sessionId)).rejects.toBeInstanceOf(
      SessionNotFoundError,
    );
    expect(await fx.service.validate(theirs.token)).not.toBeNull();
  });

  it('counts the indexed live sessions a revoke-all ends', async () => {
    const a = await fx.service.create('nina');
    const b = await fx.service.create('nina');
    const c = await fx.service.create('nina');
    // The worker keeps this index; here it is written by hand as the worker would.
    await fx.redis.zadd(
      fx.service.keys.userSessions('nina'),
      a.createdAt,
      a.sessionId,
      b.createdAt,
      b.sessionId,
      c.createdAt,
      c.sessionId,
    );
    expect(await fx.service.revokeOthers('nina', a.sessionId)).toBe(2);
    expect(await fx.service.revokeAllForUser('nina')).toBe(1);
    expect(await fx.service.revokeAllForUser('nina')).toBe(0);
  });

  it('supports the seed’s names: get, destroy (by id or token) and destroyAllForUser', async () => {
    const a = await fx.service.create('olivia');
    const b = await fx.service.create('olivia');
    const c = await fx.service.create('olivia');
    expect((await fx.service.get(a.token))?.userId).toBe('olivia');
    expect(await fx.service.destroy(a.token)).toBe(true);
    expect(await fx.service.get(a.token)).toBeNull();
    expect(await fx.service.destroy(b.sessionId)).toBe(true);
    expect(await fx.service.get(b.token)).toBeNull();
    await fx.service.destroyAllForUser('olivia');
    expect(await fx.service.get(c.token)).toBeNull();
  });
});
