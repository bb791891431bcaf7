import type { CreatedSession } from '@app/session';
import { checkProjections } from '../../apps/worker/src/rebuild/projection-check';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { testRedisUrl } from '../support/test-redis';
import { AppProcess } from '../support/app-process';
import { groupBacklog } from './group-backlog';

jest.setTimeout(180_000);

describe('Two workers, one killed with SIGKILL mid-burst (real processes)', () => {
  let fx: SessionFixture;
  let workers: AppProcess[] = [];

  beforeAll(async () => {
    fx = await createSessionFixture('worker-crash', { cache: { enabled: false } });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await fx.close();
  });

  it('the survivor claims the dead worker’s events and the projections equal a rebuild', async () => {
    const env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      WORKER_CLAIM_IDLE_MS: '2000',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    };
    workers = await Promise.all([
      AppProcess.start('worker', 'crash-w1', env),
      AppProcess.start('worker', 'crash-w2', env),
    ]);
    const [victim, survivor] = workers;
    const service = fx.service;

    // 10,000 events: 6,000 creates, 1,000 updates, 1,000 rotations, 1,500 revocations, 500 revoke-alls.
    let events = 0;
    const live: CreatedSession[] = [];
    const users = Array.from({ length: 600 }, (_, i) => `user-${i}`);
    const inChunks = async <T>(items: T[], run: (item: T) => Promise<unknown>) => {
      for (let i = 0; i < items.length; i += 100) {
        await Promise.all(items.slice(i, i + 100).map(run));
        if (events >= 3000 && victim.alive) await victim.stop('SIGKILL'); // mid-burst, no warning
      }
    };
    await inChunks(
      users.flatMap((u) => Array.from({ length: 10 }, () => u)),
      async (userId) => {
        live.push(await service.create(userId, { n: 1 }));
        events++;
      },
    );
    await inChunks(live.slice(0, 1000), async (s) => {
      await service.update(s.sessionId, { n: 2 });
      events++;
    });
    const rotated = await Promise.all(
      live.slice(1000, 2000).map((s) => service.rotate(s.token).finally(() => events++)),
    );
    await inChunks(live.slice(2000, 3500), async (s) => {
      await service.revoke(s.sessionId, 'logout');
      events++;
    });
    await inChunks(users.slice(0, 500), async (userId) => {
      await service.revokeAllForUser(userId);
      events++;
    });
    expect(events).toBe(10_000);
    expect(victim.alive).toBe(false);
    expect(rotated).toHaveLength(1000);

    const started = Date.now();
    let backlog = await groupBacklog(fx);
    while (backlog.pending + backlog.lag > 0) {
      if (Date.now() - started > 90_000)
        throw new Error(`backlog not drained: ${JSON.stringify(backlog)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      backlog = await groupBacklog(fx);
    }
    const health = (await (await fetch(`http://127.0.0.1:${survivor.port}/health`)).json()) as {
      details: { stats: { claimed: number } };
    };
    expect(health.details.stats.claimed).toBeGreaterThan(0);

    const report = await checkProjections(fx.store);
    console.log(
      `crash test: ${events} events, victim killed after ${3000}+, survivor claimed ${health.details.stats.claimed}; ` +
        `replayed ${report.events} events, ${report.sessions} live sessions of ${report.users} users, ` +
        `${report.differences.length} differences (${report.awaitingSweep} awaiting their sweep)`,
    );
    expect(report.unreadableEvents).toBe(0);
    expect(report.differences).toEqual([]);
    // Users 0..499 had every session revoked; users 500..599 kept their 10 each.
    expect(report.sessions).toBe(1000);
    expect(report.users).toBe(100);

    // Every stored session is in exactly its user's index and the expiry index.
    const partitions = service.keys.partitions;
    for (let p = 0; p < partitions; p++) {
      let cursor = '0';
      do {
        const [next, keys] = await fx.redis.scan(
          cursor,
          'MATCH',
          `${fx.prefix}:{p${p}}:session:*`,
          'COUNT',
          1000,
        );
        for (const key of keys) {
          const sessionId = key.slice(key.lastIndexOf(':') + 1);
          const userId = (await fx.redis.hget(key, 'uid')) as string;
          expect(
            await fx.redis.zscore(service.keys.userSessions(userId), sessionId),
          ).not.toBeNull();
          expect(
            await fx.redis.zscore(service.keys.expiryIndex(p), `${sessionId}|${userId}`),
          ).not.toBeNull();
        }
        cursor = next;
      } while (cursor !== '0');
    }
  });
});
