import { Test, type TestingModule } from '@nestjs/testing';
import { Cluster } from 'ioredis';
import { SessionModule, SessionService } from '@app/session';
import { AppProcess } from '../support/app-process';
import { runDeadLettersCommand } from '../support/dead-letters-command';
import { eventually } from '../support/eventually';
import { RedisClusterProcess } from '../support/redis-cluster-process';

jest.setTimeout(180_000);

/** Dead letters, their replay and a retention-gap repair on a 3-master Redis Cluster. */
describe('dead letters and retention gaps on a 3-master Redis Cluster (real processes)', () => {
  let cluster: RedisClusterProcess;
  let worker: AppProcess | undefined;
  let moduleRef: TestingModule;
  let sessions: SessionService;
  let redis: Cluster;
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3 });
    env = {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
      SESSION_MAX_PER_USER: '0',
      LOG_LEVEL: 'warn',
    };
    moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ redis: { cluster: { nodes: cluster.nodes } } })],
    }).compile();
    await moduleRef.init();
    sessions = moduleRef.get(SessionService);
    redis = new Cluster(cluster.nodes);
  });
  afterAll(async () => {
    redis?.disconnect();
    await moduleRef?.close();
    await worker?.stop();
    await cluster?.stop();
  });

  const deadCount = async () => {
    let total = 0;
    for (const stream of sessions.keys.allEventStreams())
      total += await redis.xlen(`${stream}:dead`);
    return total;
  };

  it('dead-letters unreadable events on every master and replays one after a fix', async () => {
    worker = await AppProcess.start('worker', 'cluster-dl', env);
    const users = Array.from({ length: 12 }, (_, i) => `dl-user-${i}`);
    for (const userId of users) {
      const partition = sessions.keys.partitionOf(userId);
      await redis.xadd(
        sessions.keys.events(partition),
        '*',
        'pattern',
        'session.created',
        'data',
        JSON.stringify({ v: 3, type: 'session.created', userId, sessionId: `${partition}-x` }),
      );
    }
    await eventually(deadCount, (n) => n === 12, { timeoutMs: 20_000 });

    // A session whose created event a buggy release dead-lettered: put there by hand.
    const created = await sessions.create('carol');
    const partition = sessions.keys.partitionOf('carol');
    const stream = sessions.keys.events(partition);
    await eventually(
      () => redis.zcard(sessions.keys.userSessions('carol')),
      (n) => n === 1,
    );
    const entry = (await redis.xrange(stream, '-', '+')).find(([, f]) =>
      f.some((v) => v.includes(created.sessionId)),
    )!;
    await redis.del(sessions.keys.userSessions('carol'));
    await redis.zrem(sessions.keys.expiryIndex(partition), `${created.sessionId}|carol`);
    const [, fields] = entry;
    await redis.xadd(
      `${stream}:dead`,
      '*',
      'pattern',
      fields[fields.indexOf('pattern') + 1],
      'data',
      fields[fields.indexOf('data') + 1],
      'reason',
      'failed',
      'originalStream',
      stream,
      'originalId',
      entry[0],
      'deliveryCount',
      '5',
    );

    const listed = await runDeadLettersCommand(env, ['list']);
    expect(listed.report).toMatchObject({ total: 13 });
    const replayed = await runDeadLettersCommand(env, ['replay', '--reason', 'failed']);
    expect(replayed.report).toMatchObject({ replayedCount: 1 });
    await eventually(
      () => redis.zscore(sessions.keys.userSessions('carol'), created.sessionId),
      (score) => score !== null,
      { timeoutMs: 15_000 },
    );
    expect(await deadCount()).toBe(12);
  });

  it('finds a retention gap on every partition it hit and repairs them from the session keys', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `gap-user-${i}`);
    const first = new Map<string, string>();
    for (const userId of users) first.set(userId, (await sessions.create(userId)).sessionId);
    await eventually(
      async () =>
        (await Promise.all(users.map((u) => redis.zcard(sessions.keys.userSessions(u))))).every(
          (n) => n === 1,
        ),
      (done) => done,
      { timeoutMs: 15_000 },
    );
    await worker!.stop();
    const later = new Map<string, string>();
    for (const userId of users) {
      await sessions.revoke(first.get(userId)!);
      later.set(userId, (await sessions.create(userId)).sessionId);
    }
    const hit = new Set(users.map((u) => sessions.keys.partitionOf(u)));
    for (const p of hit) {
      const stream = sessions.keys.events(p);
      const [[lastId]] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
      const [ms, seq] = lastId.split('-');
      await redis.xtrim(stream, 'MINID', `${ms}-${Number(seq) + 1}`);
    }

    worker = await AppProcess.start('worker', 'cluster-dl', env);
    for (const userId of users) {
      await eventually(
        () => redis.zrange(sessions.keys.userSessions(userId), 0, -1),
        (ids) => ids.length === 1 && ids[0] === later.get(userId),
        { timeoutMs: 30_000 },
      );
    }
    const metrics = await worker.metrics();
    expect(metrics).toMatch(/session_worker_missed_events_total 24\b/);
    expect(metrics).toMatch(new RegExp(`session_worker_retention_gaps_total ${hit.size}\\b`));
  });
});
