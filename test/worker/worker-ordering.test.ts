import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { testRedisUrl } from '../support/test-redis';
import { groupBacklog } from './group-backlog';

jest.setTimeout(180_000);

/** What the README says of ordering with several workers, shown with two (real processes). */
describe('One user’s events split over two workers', () => {
  let fx: SessionFixture;
  let workers: AppProcess[] = [];

  beforeAll(async () => {
    fx = await createSessionFixture('worker-order', { cache: { enabled: false } });
    const env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      SESSION_MAX_PER_USER: '3',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    };
    workers = await Promise.all([
      AppProcess.start('worker', 'order-w1', env),
      AppProcess.start('worker', 'order-w2', env),
    ]);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await fx.close();
  });

  /** The sessions stored per user: the truth the projections must equal. */
  async function storedSessions(): Promise<Map<string, string[]>> {
    const byUser = new Map<string, string[]>();
    let cursor = '0';
    do {
      const [next, keys] = await fx.redis.scan(
        cursor,
        'MATCH',
        `${fx.prefix}:{p*}:session:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      for (const key of keys) {
        const userId = await fx.redis.hget(key, 'uid');
        if (userId === null) continue;
        byUser.set(userId, [...(byUser.get(userId) ?? []), key.slice(key.lastIndexOf(':') + 1)]);
      }
    } while (cursor !== '0');
    return byUser;
  }

  it('are handled by both, in any order, and the projections still equal what is stored', async () => {
    const service = fx.service;
    const applied = async (worker: AppProcess, partition: number) => {
      const text = await worker.metrics();
      const match = new RegExp(
        `session_worker_partition_events_applied_total\\{partition="${partition}"\\} (\\d+)`,
      ).exec(text);
      return match ? Number(match[1]) : 0;
    };
    // One user alone, each change awaited: his events are one stream, read by two consumers.
    const solo = 'solo-user';
    const soloPartition = service.keys.partitionOf(solo);
    for (let i = 0; i < 40; i++) {
      const created = await service.create(solo);
      const rotated = await service.rotate(created.token);
      if (i % 3 === 0) await service.revoke(rotated.sessionId);
      if (i % 10 === 9) await service.revokeAllForUser(solo);
    }
    await eventually(
      () => groupBacklog(fx),
      (b) => b.pending === 0 && b.lag === 0,
      { timeoutMs: 60_000 },
    );
    // Nothing else was written yet: every event of the partition is solo's (his 98, plus the
    // revocations of the session limit).
    const split = await Promise.all(workers.map((w) => applied(w, soloPartition)));
    console.log(`ordering: solo's events applied per worker: ${split.join(', ')}`);
    expect(split.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(98);
    expect(split.every((n) => n > 0)).toBe(true);

    // Then 20 users at once: logins (over the limit of 3), rotations, revocations, revoke-others.
    await Promise.all(
      Array.from({ length: 20 }, async (_, u) => {
        const userId = `busy-${u}`;
        for (let i = 0; i < 10; i++) {
          const created = await service.create(userId);
          if (i % 2 === 0) await service.rotate(created.token);
          if (i % 4 === 1) await service.revoke(created.sessionId);
          if (i === 7) await service.revokeOthers(userId, created.sessionId);
        }
      }),
    );
    await eventually(
      () => groupBacklog(fx),
      (b) => b.pending === 0 && b.lag === 0,
      { timeoutMs: 60_000 },
    );
    const stored = await storedSessions();
    const expiry = new Set<string>();
    for (let p = 0; p < service.keys.partitions; p++)
      for (const member of await fx.redis.zrange(service.keys.expiryIndex(p), 0, -1))
        expiry.add(member);
    const users = [solo, ...Array.from({ length: 20 }, (_, u) => `busy-${u}`)];
    for (const userId of users) {
      const indexed = (await fx.redis.zrange(service.keys.userSessions(userId), 0, -1)).sort();
      const live = (stored.get(userId) ?? []).sort();
      expect({ userId, indexed }).toEqual({ userId, indexed: live });
      expect(live.length).toBeLessThanOrEqual(3);
      for (const sessionId of live) expect(expiry.has(`${sessionId}|${userId}`)).toBe(true);
    }
    expect(expiry.size).toBe([...stored.values()].reduce((n, ids) => n + ids.length, 0));
  });
});
