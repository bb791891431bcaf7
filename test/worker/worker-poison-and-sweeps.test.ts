import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  createSessionFixture,
  readAllEvents,
  type SessionFixture,
} from '../session/session-fixture';
import { testRedisUrl } from '../support/test-redis';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';

jest.setTimeout(120_000);

describe('A poison event (worker process)', () => {
  let fx: SessionFixture;
  let worker: AppProcess;

  beforeAll(async () => {
    fx = await createSessionFixture('worker-poison');
    worker = await AppProcess.start('worker', 'poison-w1', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      WORKER_MAX_DELIVERIES: '3',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    });
  });
  afterAll(async () => {
    await worker.stop();
    await fx.close();
  });

  it('lands in the dead-letter stream at once (it cannot be read, retrying cannot help) while the other events keep flowing', async () => {
    const keys = fx.service.keys;
    const partition = keys.partitionOf('alice');
    const stream = keys.events(partition);
    const poisonId = await fx.redis.xadd(
      stream,
      '*',
      'pattern',
      'session.created',
      'data',
      JSON.stringify({
        v: 99,
        type: 'session.created',
        userId: 'mallory',
        sessionId: `${partition}-x`,
        at: Date.now(),
      }),
    );
    // Alice's events share the poison's partition but not its ordering key: they are not held up.
    const created = await fx.service.create('alice');
    await eventually(
      () => fx.redis.zscore(keys.userSessions('alice'), created.sessionId),
      (score) => score !== null,
      { timeoutMs: 2000 },
    );

    const dead = await eventually(
      () => fx.redis.xrange(`${stream}:dead`, '-', '+'),
      (entries) => entries.length === 1,
      { timeoutMs: 20_000 },
    );
    const fields = dead[0][1];
    const record: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) record[fields[i]] = fields[i + 1];
    expect(JSON.stringify(record)).toContain(poisonId!);
    expect(JSON.stringify(record)).toMatch(/Unsupported schema version 99/);
    expect(record).toMatchObject({ deliveryCount: '1', reason: 'permanent' });
    // Acknowledged: nothing of the group stays pending (Alice's event's ack is batched, so it
    // may trail her indexing by a moment).
    await eventually(
      async () =>
        ((await fx.redis.xpending(stream, 'session-projections')) as [number, ...unknown[]])[0],
      (pending) => pending === 0,
      { timeoutMs: 5000 },
    );
    expect(await worker.metrics()).toMatch(
      new RegExp(`session_worker_dead_letters\\{stream="${stream.replace(/[{}]/g, '\\$&')}"\\} 1`),
    );
  });
});

describe('Expiry sweeps shared by two workers (worker processes)', () => {
  let fx: SessionFixture;
  let workers: AppProcess[];
  let queue: Queue;
  let queueConnection: Redis;

  beforeAll(async () => {
    fx = await createSessionFixture('worker-sweeps', {
      idleTtlSeconds: 1,
      absoluteTtlSeconds: 60,
      touchIntervalSeconds: 0,
    });
    const env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      SESSION_IDLE_TTL_SECONDS: '1',
      SESSION_ABSOLUTE_TTL_SECONDS: '60',
      SESSION_SWEEP_INTERVAL_SECONDS: '1',
      SESSION_SWEEP_BATCH: '50',
    };
    workers = await Promise.all([
      AppProcess.start('worker', 'sweep-w1', env),
      AppProcess.start('worker', 'sweep-w2', env),
    ]);
    queueConnection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue('expiry-sweep', {
      connection: queueConnection,
      prefix: `{${fx.prefix}:bull}`,
    });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await queue.close();
    queueConnection.disconnect();
    await fx.close();
  });

  it('ends every expired session exactly once, never runs two sweeps at a time, and a repeated sweep changes nothing', async () => {
    const sessions = [];
    for (let i = 0; i < 200; i++) sessions.push(await fx.service.create(`user-${i % 20}`));
    const expiredEvents = () =>
      readAllEvents(fx).then((events) => events.filter((e) => e.pattern === 'session.expired'));
    await eventually(expiredEvents, (events) => events.length >= 200, { timeoutMs: 30_000 });
    // More sweeps run; none may find anything left to end.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const events = await expiredEvents();
    expect(events).toHaveLength(200);
    expect(new Set(events.map((e) => e.data.sessionId)).size).toBe(200);
    for (let i = 0; i < 20; i++)
      expect(await fx.redis.zcard(fx.service.keys.userSessions(`user-${i}`))).toBe(0);

    expect(await queue.getJobSchedulersCount()).toBe(1);
    const jobs = (await queue.getJobs(['completed'], 0, 200)).filter(
      (job) => job.processedOn && job.finishedOn,
    );
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    const spans = jobs
      .map((job) => [job.processedOn!, job.finishedOn!] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    // Both replicas took part (BullMQ hands the job to whichever worker is free).
    const sweptBy = new Set(jobs.map((job) => job.processedBy ?? ''));
    expect(sweptBy.size).toBeGreaterThanOrEqual(1);
  });
});
