import { SessionIndex } from '@app/session';
import { createSessionFixture, readAllEvents, sleep, type SessionFixture } from './session-fixture';

describe('SessionIndex projections (as the worker applies them)', () => {
  let fx: SessionFixture;
  let index: SessionIndex;

  beforeAll(async () => {
    fx = await createSessionFixture('index', {
      idleTtlSeconds: 2,
      absoluteTtlSeconds: 60,
      touchIntervalSeconds: 0,
    });
    index = fx.module.get(SessionIndex);
  });
  afterAll(() => fx.close());

  const userIndex = (userId: string) =>
    fx.redis.zrange(fx.service.keys.userSessions(userId), 0, -1);
  const expiryMembers = (userId: string) =>
    fx.redis
      .zrange(fx.service.keys.expiryIndex(fx.service.keys.partitionOf(userId)), 0, -1)
      .then((m) => m.filter((x) => x.endsWith(`|${userId}`)));

  it('indexes a created session with its device metadata, newest first, and applying twice changes nothing', async () => {
    const first = await fx.service.create(
      'alice',
      {},
      { userAgent: 'Firefox', ip: '10.0.0.1', deviceLabel: 'laptop' },
    );
    await sleep(5); // distinct creation times: the list is newest first
    const second = await fx.service.create('alice', {}, { userAgent: 'Safari' });
    for (let i = 0; i < 2; i++) {
      expect(await index.indexSession(first.sessionId, 'alice')).toBe(true);
      expect(await index.indexSession(second.sessionId, 'alice')).toBe(true);
    }
    expect(await userIndex('alice')).toHaveLength(2);
    expect(await expiryMembers('alice')).toHaveLength(2);
    const page = await fx.service.listForUser('alice');
    expect(page.sessions.map((s) => s.sessionId)).toEqual([second.sessionId, first.sessionId]);
    expect(page.sessions[1]).toMatchObject({
      userAgent: 'Firefox',
      ip: '10.0.0.1',
      deviceLabel: 'laptop',
      createdAt: first.createdAt,
    });
    expect(page.nextCursor).toBeNull();
    const ttl = await fx.redis.pttl(fx.service.keys.userSessions('alice'));
    expect(ttl).toBeGreaterThan(55_000); // lives as long as its longest-lived session, never forever
  });

  it('does not re-index a session that is already gone (replayed created event)', async () => {
    const created = await fx.service.create('bob');
    await fx.service.revoke(created.sessionId);
    expect(await index.indexSession(created.sessionId, 'bob')).toBe(false);
    expect(await userIndex('bob')).toEqual([]);
  });

  it('moves the index entry on rotation and drops it on revocation', async () => {
    const created = await fx.service.create('carol');
    await index.indexSession(created.sessionId, 'carol');
    const rotated = await fx.service.rotate(created.token);
    await index.indexSession(rotated.sessionId, 'carol', created.sessionId);
    expect(await userIndex('carol')).toEqual([rotated.sessionId]);
    await fx.service.revoke(rotated.sessionId);
    await index.unindexSession(rotated.sessionId, 'carol');
    await index.unindexSession(rotated.sessionId, 'carol');
    expect(await userIndex('carol')).toEqual([]);
    expect(await expiryMembers('carol')).toEqual([]);
  });

  it('purges the sessions a revoke-all ended, keeps the excepted one and any created afterwards', async () => {
    const old1 = await fx.service.create('dave');
    const keep = await fx.service.create('dave');
    for (const s of [old1, keep]) await index.indexSession(s.sessionId, 'dave');
    await fx.service.revokeOthers('dave', keep.sessionId);
    const after = await fx.service.create('dave');
    await index.indexSession(after.sessionId, 'dave');
    const epoch = Number(
      await fx.redis.hget(
        fx.service.keys.revocationEpochs(fx.service.keys.partitionOf('dave')),
        'dave',
      ),
    );
    expect(await index.purgeRevokedSessions('dave', epoch, keep.sessionId)).toBe(1);
    expect(await index.purgeRevokedSessions('dave', epoch, keep.sessionId)).toBe(0);
    expect((await userIndex('dave')).sort()).toEqual([keep.sessionId, after.sessionId].sort());
    expect(
      await fx.redis.exists(
        fx.service.keys.session(old1.sessionId, fx.service.keys.partitionOf('dave')),
      ),
    ).toBe(0);
  });

  it('sweeps: ends idle-expired sessions with session.expired, reschedules touched ones, and a second sweep changes nothing', async () => {
    const partition = fx.service.keys.partitionOf('erin');
    const idle = await fx.service.create('erin');
    const used = await fx.service.create('erin');
    for (const s of [idle, used]) await index.indexSession(s.sessionId, 'erin');
    // Keep one in use past its original expiry; the other goes idle.
    for (let i = 0; i < 5; i++) {
      await sleep(500);
      await fx.service.flushAllCaches(); // force a Redis validation (and touch) every time
      expect(await fx.service.validate(used.token)).not.toBeNull();
    }
    expect(await index.sweepLagMs(partition)).toBeGreaterThan(0);
    const first = await index.sweepPartition(partition, 100);
    expect(first.expired).toBeGreaterThanOrEqual(1);
    expect(first.alive).toBeGreaterThanOrEqual(1);
    const second = await index.sweepPartition(partition, 100);
    expect(second.expired).toBe(0);
    expect(await userIndex('erin')).toEqual([used.sessionId]);
    const expired = (await readAllEvents(fx)).filter(
      (e) => e.pattern === 'session.expired' && e.data.userId === 'erin',
    );
    expect(expired.map((e) => e.data.sessionId)).toEqual([idle.sessionId]);
  });

  it('lists only live sessions and pages through them', async () => {
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await fx.service.create('frank'));
    for (const s of sessions) await index.indexSession(s.sessionId, 'frank');
    await fx.service.revoke(sessions[0].sessionId); // revoked but not yet unindexed by the worker
    const page1 = await fx.service.listForUser('frank', { limit: 2 });
    const page2 = await fx.service.listForUser('frank', { limit: 2, cursor: page1.nextCursor });
    const page3 = await fx.service.listForUser('frank', { limit: 2, cursor: page2.nextCursor });
    const listed = [...page1.sessions, ...page2.sessions, ...page3.sessions].map(
      (s) => s.sessionId,
    );
    expect(listed.sort()).toEqual(
      sessions
        .slice(1)
        .map((s) => s.sessionId)
        .sort(),
    );
    expect(page3.nextCursor).toBeNull();
  });
});
