import { Test, type TestingModule } from '@nestjs/testing';
import { Cluster } from 'ioredis';
import { SessionModule, SessionService } from '@app/session';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { RedisClusterProcess } from '../support/redis-cluster-process';

jest.setTimeout(120_000);

/** The worker, unchanged, on Redis Cluster: partitions on every master, sweeps via BullMQ. */
describe('worker on a 3-master Redis Cluster (real processes)', () => {
  let cluster: RedisClusterProcess;
  let worker: AppProcess;
  let moduleRef: TestingModule;
  let sessions: SessionService;

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3 });
    worker = await AppProcess.start('worker', 'cluster-worker', {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      SESSION_IDLE_TTL_SECONDS: '2',
      SESSION_SWEEP_INTERVAL_SECONDS: '1',
      SESSION_MAX_PER_USER: '2',
      LOG_LEVEL: 'warn',
    });
    moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({ redis: { cluster: { nodes: cluster.nodes } }, idleTtlSeconds: 2 }),
      ],
    }).compile();
    await moduleRef.init();
    sessions = moduleRef.get(SessionService);
  });
  afterAll(async () => {
    await moduleRef?.close();
    await worker?.stop();
    await cluster?.stop();
  });

  it('indexes, limits, purges and sweeps sessions of users on every master', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const partitions = new Set(users.map((u) => sessions.keys.partitionOf(u)));
    expect(partitions.size).toBeGreaterThan(3);
    const tokens = new Map<string, string[]>();
    for (const userId of users) {
      const created = [];
      for (let i = 0; i < 3; i++) created.push((await sessions.create(userId)).token);
      tokens.set(userId, created);
    }
    // The limit of 2: the worker revokes one session of each user (in Redis and in the index).
    for (const userId of users) {
      const stillValid = async () =>
        (await Promise.all(tokens.get(userId)!.map((t) => sessions.verify(t)))).filter(
          (r) => r.valid,
        ).length;
      await eventually(stillValid, (n) => n === 2, { timeoutMs: 15_000 });
      await eventually(
        () => sessions.listForUser(userId),
        (page) => page.sessions.length === 2,
        { timeoutMs: 15_000 },
      );
    }
    expect(await sessions.revokeAllForUser('user-0')).toBe(2);
    await eventually(
      () => sessions.listForUser('user-0'),
      (page) => page.sessions.length === 0,
    );
    // Unused for longer than the 2 s idle TTL: the sweeps end them all and empty the indexes.
    const redis = new Cluster(cluster.nodes);
    try {
      for (const userId of users.slice(1)) {
        await eventually(
          () => redis.zcard(sessions.keys.userSessions(userId)),
          (n) => n === 0,
          { timeoutMs: 20_000 },
        );
      }
    } finally {
      redis.disconnect();
    }
    expect(await worker.healthy()).toBe(true);
    expect(await worker.metrics()).toMatch(/session_worker_swept_total\{outcome="expired"\} [1-9]/);
    // The retention-gap check (a script per partition, on every master) ran without a failure.
    expect(worker.output).not.toMatch(/Retention check of .* failed/);
    expect(await worker.metrics()).toMatch(/session_worker_retention_gaps_total 0/);
  });
});
