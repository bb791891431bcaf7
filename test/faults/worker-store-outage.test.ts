/**
 * A worker (re)started while Redis is out of memory (maxmemory with noeviction: every write that
 * may grow memory is refused), as a real process on a private redis-server.
 *
 * It used to exit at start-up: creating its consumer group and scheduling the expiry sweeps are
 * writes. Now it starts when its group already exists (checked with a read), retries the sweep
 * schedule in the background, logs BullMQ's refusals at most once per 10 s, and applies the
 * events meanwhile (the projection scripts start with writes Redis lets through when out of
 * memory); once memory is available the sweeps are scheduled. Nothing is dead-lettered.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkProjections } from '../../apps/worker/src/rebuild/projection-check';
import {
  SWEEP_QUEUE,
  SWEEP_SCHEDULER_ID,
} from '../../apps/worker/src/sweeps/expiry-sweeper.service';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { RedisServerProcess } from '../support/redis-server-process';
import { groupBacklog } from '../worker/group-backlog';

jest.setTimeout(120_000);

const SESSIONS = 40;
const OUTAGE_MS = 4_000;

describe('worker restarted while Redis is out of memory (real process)', () => {
  let server: RedisServerProcess;
  let fx: SessionFixture;
  let worker: AppProcess | undefined;
  let queue: Queue | undefined;
  let connection: Redis | undefined;

  beforeAll(async () => {
    server = await RedisServerProcess.start({ args: ['--maxmemory-policy', 'noeviction'] });
    fx = await createSessionFixture('store-outage', { redisUrl: server.url });
  });
  afterAll(async () => {
    await worker?.stop();
    await queue?.close();
    connection?.disconnect();
    await fx?.close();
    await server?.stop();
  });

  it('starts, applies every event, and schedules its sweeps once memory is available', async () => {
    const env = {
      REDIS_URL: server.url,
      SESSION_PREFIX: fx.prefix,
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
      LOG_LEVEL: 'warn',
    };
    // A first run creates the consumer group; the events are written while the worker is down.
    await (await AppProcess.start('worker', 'outage-w1', env)).stop();
    connection = new Redis(server.url, { maxRetriesPerRequest: null });
    queue = new Queue(SWEEP_QUEUE, { connection, prefix: `{${fx.prefix}:bull}` });
    await queue.removeJobScheduler(SWEEP_SCHEDULER_ID); // so the restart must schedule it again
    const created: { sessionId: string; userId: string }[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const userId = `outage-user-${i % 8}`;
      created.push({ userId, sessionId: (await fx.service.create(userId)).sessionId });
    }
    const used = Number(/used_memory:(\d+)/.exec(await fx.redis.info('memory'))?.[1]);
    await fx.redis.config('SET', 'maxmemory', String(Math.max(1, used - 100_000)));
    await expect(fx.redis.set(`${fx.prefix}:probe`, 'x')).rejects.toThrow(/OOM/);

    worker = await AppProcess.start('worker', 'outage-w1', env);
    const during = await eventually(
      () => groupBacklog(fx),
      (b) => b.pending === 0 && b.lag === 0,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    const scheduledDuring = await queue.getJobScheduler(SWEEP_SCHEDULER_ID);
    await fx.redis.config('SET', 'maxmemory', '0');
    const scheduledAfter = await eventually(
      () => queue!.getJobScheduler(SWEEP_SCHEDULER_ID),
      (scheduler) => scheduler !== undefined,
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const deadLetters = (
      await Promise.all(fx.service.keys.allEventStreams().map((s) => fx.redis.xlen(`${s}:dead`)))
    ).reduce((a, b) => a + b, 0);
    const report = await checkProjections(fx.store);
    const indexed = await Promise.all(
      created.map(async ({ userId }) =>
        (await fx.service.listForUser(userId)).sessions.map((s) => s.sessionId),
      ),
    );
    const refusals = worker.output.match(/Sweep (worker|queue): .*OOM/g) ?? [];
    console.log(
      `worker restarted out of memory: started, ${SESSIONS} events applied meanwhile ` +
        `(pending ${during.pending}, unread ${during.lag}), sweep schedule refused for ` +
        `${OUTAGE_MS} ms then set, ${refusals.length} BullMQ refusal lines logged, ` +
        `${deadLetters} dead letters, ${report.differences.length} projection differences`,
    );
    expect(worker.alive).toBe(true);
    expect(scheduledDuring).toBeUndefined();
    expect(scheduledAfter?.every).toBe(3_600_000);
    expect(refusals.length).toBeLessThanOrEqual(2 * Math.ceil(OUTAGE_MS / 10_000) + 2);
    expect(deadLetters).toBe(0);
    expect(report.differences).toEqual([]);
    created.forEach((session, i) => expect(indexed[i]).toContain(session.sessionId));
  });
});
