import { Test, type TestingModule } from '@nestjs/testing';
import { Cluster } from 'ioredis';
import { SessionModule, SessionService, SessionStore } from '@app/session';
import { AppProcess } from '../support/app-process';
import { runRebuildCommand } from '../support/rebuild-command';
import { RedisClusterProcess } from '../support/redis-cluster-process';
import {
  LIVE_REBUILD_SETTINGS,
  liveRebuildWorkerEnv,
  runLiveRebuildScenario,
} from '../worker/live-rebuild-scenario';

jest.setTimeout(300_000);

const PREFIX = 'rebuild';

/**
 * The rebuild command and its --check on a 3-master cluster: the user indexes live on every
 * master, so clearing them must scan every master (a single-node SCAN left the others' stale).
 */
describe('worker:rebuild and --check on a 3-master Redis Cluster', () => {
  let cluster: RedisClusterProcess;
  let moduleRef: TestingModule;
  let sessions: SessionService;
  let redis: Cluster;
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3 });
    moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({
          redis: { cluster: { nodes: cluster.nodes } },
          keyPrefix: PREFIX,
          cache: { enabled: false },
        }),
      ],
    }).compile();
    await moduleRef.init();
    sessions = moduleRef.get(SessionService);
    redis = new Cluster(cluster.nodes);
    env = { REDIS_CLUSTER_NODES: cluster.nodeList, SESSION_PREFIX: PREFIX, LOG_LEVEL: 'warn' };
  });

  afterAll(async () => {
    redis?.disconnect();
    await moduleRef?.close();
    await cluster?.stop();
  });

  it('rebuilds and checks while traffic flows, with the worker running (real process)', async () => {
    const prefix = 'rebuild-live';
    const live = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({
          redis: { cluster: { nodes: cluster.nodes } },
          keyPrefix: prefix,
          idleTtlSeconds: LIVE_REBUILD_SETTINGS.idleTtlSeconds,
          absoluteTtlSeconds: LIVE_REBUILD_SETTINGS.absoluteTtlSeconds,
          cache: { enabled: false },
        }),
      ],
    }).compile();
    await live.init();
    const liveEnv = {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      SESSION_PREFIX: prefix,
      ...liveRebuildWorkerEnv(),
    };
    const worker = await AppProcess.start('worker', 'cluster-rebuild-live-worker', liveEnv);
    try {
      const summary = await runLiveRebuildScenario({
        service: live.get(SessionService),
        store: live.get(SessionStore),
        env: liveEnv,
      });
      console.log(`live rebuild (3-master cluster): ${JSON.stringify(summary)}`);
    } finally {
      await worker.stop();
      await live.close();
    }
  });

  it('rebuilds the indexes of users on every master from the streams; check agrees', async () => {
    const users = Array.from({ length: 24 }, (_, i) => `user-${i}`);
    const expected = new Map<string, string[]>();
    for (const [i, userId] of users.entries()) {
      const created = [];
      for (let n = 0; n < 3; n++) created.push(await sessions.create(userId));
      const rotated = await sessions.rotate(created[0].token);
      await sessions.revoke(created[1].sessionId, 'logout');
      if (i % 4 === 0) {
        await sessions.revokeAllForUser(userId);
        expected.set(userId, []);
      } else expected.set(userId, [rotated.sessionId, created[2].sessionId].sort());
      // A stale entry no event explains, as an index left over from an earlier state would hold.
      await redis.zadd(sessions.keys.userSessions(userId), 1, `ghost-of-${userId}`);
    }
    // The indexes sit on every master, so a single-node scan would miss some.
    for (const master of redis.nodes('master')) expect(await master.dbsize()).toBeGreaterThan(0);

    const before = await runRebuildCommand(env, true);
    expect(before.code).toBe(1);
    expect(before.reports.at(-1)).toMatchObject({ mode: 'check' });
    expect(Number(before.reports.at(-1)?.differenceCount)).toBeGreaterThan(0);

    const rebuilt = await runRebuildCommand(env);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.reports[0]).toMatchObject({ mode: 'rebuild' });
    // Per user: 3 creates, a rotation, a revoke; a revoke-all for every fourth.
    expect(rebuilt.reports[0].events).toBe(users.length * 5 + users.length / 4);
    expect(rebuilt.reports[1]).toMatchObject({ mode: 'check', differenceCount: 0 });

    for (const userId of users) {
      const indexed = await redis.zrange(sessions.keys.userSessions(userId), 0, -1);
      expect({ userId, indexed: indexed.sort() }).toEqual({
        userId,
        indexed: expected.get(userId),
      });
    }

    const after = await runRebuildCommand(env, true);
    expect(after.code).toBe(0);
    expect(after.reports.at(-1)).toMatchObject({ mode: 'check', differenceCount: 0 });
  });
});
