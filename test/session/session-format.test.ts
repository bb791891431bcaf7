import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { COMPACT_EVENT_VERSION, SESSION_EVENT_SCHEMA_VERSION, SessionStore } from '@app/session';
import { testRedisUrl, uniquePrefix } from '../support/test-redis';
import { createSessionFixture, readAllEvents, type SessionFixture } from './session-fixture';

const digestOf = (token: string) => createHash('sha256').update(token.split('.')[1]).digest();

/**
 * Storage formats side by side: a deployment that predates the format setting keeps writing
 * format 1 (what the previous release reads) until it is raised; every process reads both.
 */
describe('storage formats 1 and 2 in one deployment', () => {
  const prefix = uniquePrefix('format');
  let admin: Redis;
  let old: SessionFixture;
  let raised: SessionFixture;

  beforeAll(async () => {
    admin = new Redis(testRedisUrl());
    // What the previous release leaves: settings without a format.
    await admin.hset(`${prefix}:deployment`, 'streamPartitions', '16');
    old = await createSessionFixture('format', { keyPrefix: prefix, cache: { enabled: false } });
  });

  afterAll(async () => {
    // Same prefix as `old`, whose close() deletes the keys.
    await raised?.redis.quit();
    await raised?.module.close();
    await old.close();
    await admin.quit();
  });

  it('keeps writing format 1 in a deployment that predates the setting', async () => {
    expect(old.store.format).toBe(1);
    expect(await admin.hget(`${prefix}:deployment`, 'format')).toBe('1');
    const created = await old.service.create('alice');
    const key = old.service.keys.session(created.sessionId, old.service.keys.partitionOf('alice'));
    expect(await admin.hget(key, 'sh')).toBe(digestOf(created.token).toString('hex'));
    const [event] = await readAllEvents(old);
    expect(event.data).toMatchObject({ v: SESSION_EVENT_SCHEMA_VERSION, userId: 'alice' });
  });

  it('once raised, new processes write format 2 and every process reads both', async () => {
    const v1 = await old.service.create('bob', { n: 1 });
    await old.store.raiseFormat(2);
    await old.store.raiseFormat(1); // never lowered
    expect(await admin.hget(`${prefix}:deployment`, 'format')).toBe('2');
    raised = await createSessionFixture('format', {
      keyPrefix: prefix,
      cache: { enabled: false },
    });
    expect(raised.store.format).toBe(2);
    expect(old.store.format).toBe(1); // until it restarts

    const v2 = await raised.service.create('bob', { n: 2 });
    const partition = raised.service.keys.partitionOf('bob');
    const v2Key = raised.service.keys.session(v2.sessionId, partition);
    expect(await admin.hgetBuffer(v2Key, 'sh')).toEqual(digestOf(v2.token));

    // Each validates the other's sessions; the new one rotates and revokes the old one's.
    expect((await old.service.verify(v2.token)).valid).toBe(true);
    expect((await raised.service.verify(v1.token)).valid).toBe(true);
    expect((await raised.service.verify(`${v1.sessionId}.${'A'.repeat(43)}`)).valid).toBe(false);
    expect((await old.service.verify(`${v2.sessionId}.${'A'.repeat(43)}`)).valid).toBe(false);
    const rotated = await raised.service.rotate(v1.token);
    expect((await old.service.verify(rotated.token)).valid).toBe(true);
    expect((await old.service.verify(v1.token)).valid).toBe(false);
    const rotatedKey = raised.service.keys.session(rotated.sessionId, partition);
    expect((await admin.hgetBuffer(rotatedKey, 'sh'))?.length).toBe(32);
    await old.service.revoke(v2.sessionId, 'logout');
    expect((await raised.service.verify(v2.token)).valid).toBe(false);

    // Both forms of session.created read back the same way.
    const created = (await readAllEvents(raised)).filter(
      (e) => e.pattern === 'session.created' && e.data.userId === 'bob',
    );
    expect(created.map((e) => [e.data.sessionId, e.data.v])).toEqual([
      [v1.sessionId, SESSION_EVENT_SCHEMA_VERSION],
      [v2.sessionId, COMPACT_EVENT_VERSION],
    ]);
    expect(created[1].data).toMatchObject({
      sessionId: v2.sessionId,
      userId: 'bob',
      createdAt: v2.createdAt,
      expiresAt: v2.expiresAt,
      absoluteExpiresAt: v2.absoluteExpiresAt,
    });
  });

  it('compares the whole raw digest: one changed bit in its last byte is refused', async () => {
    const created = await raised.service.create('carl');
    const partition = raised.service.keys.partitionOf('carl');
    const key = raised.service.keys.session(created.sessionId, partition);
    const digest = digestOf(created.token);
    const altered = Buffer.from(digest);
    altered[31] ^= 1;
    await admin.hset(key, 'sh', altered);
    expect(await raised.service.verify(created.token)).toEqual({
      valid: false,
      reason: 'bad_secret',
    });
    await admin.hset(key, 'sh', digest);
    expect((await raised.service.verify(created.token)).valid).toBe(true);
    expect(raised.module.get(SessionStore)).toBe(raised.store);
  });
});
