/**
 * 6. The worker: events applied per second by one
 * worker process draining a backlog of session.created events, against a bare XREADGROUP + XACK
 * loop over the same backlog; then the projection lag under a steady create rate, from the
 * worker's own histogram.
 */
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { AppProcess } from '../../test/support/app-process';
import { settings } from '../support/config';
import { count, sleep } from '../support/format';
import { difference, lagBuckets, observations, quantile } from '../support/lag-histogram';
import { ourSessions } from '../support/our-sessions';
import { runAll } from '../support/rate';
import { withPrivateRedis } from '../support/redis';
import { Section } from '../support/report';
import { backlogOf, drained, PROJECTION_GROUP } from '../support/worker-streams';

type Entries = [string, [string, string[]][]][] | null;

/** The floor: read and acknowledge the whole backlog with no handler at all. */
async function bareConsumer(redis: Redis, streams: string[]): Promise<number> {
  const group = 'bench-bare';
  for (const stream of streams) await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const started = performance.now();
  let consumed = 0;
  for (;;) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      group,
      'bare',
      'COUNT',
      100,
      'STREAMS',
      ...streams,
      ...streams.map(() => '>'),
    )) as Entries;
    if (!reply) break;
    for (const [stream, entries] of reply) {
      if (entries.length === 0) continue;
      await redis.xack(stream, group, ...entries.map(([id]) => id));
      consumed += entries.length;
    }
  }
  return consumed / ((performance.now() - started) / 1000);
}

export async function runWorker(): Promise<Section> {
  const section = new Section(
    '6. Worker: events applied per second, projection lag',
    `One worker process (WORKER_CONCURRENCY ${settings.workerConcurrency}) draining a backlog of ${count(settings.workerBacklog)} ` +
      `session.created events, vs a bare XREADGROUP COUNT 100 + XACK loop over the same backlog; then ` +
      `${count(settings.workerRate)} creates/s for ${settings.workerSeconds} s and the worker's lag histogram.`,
  );
  await withPrivateRedis(async (url) => {
    const admin = new Redis(url);
    const sessions = await ourSessions(url, {
      cache: false,
      pipelining: true,
      keyPrefix: 'bench-w',
    });
    const streams = sessions.service.keys.allEventStreams();
    let worker: AppProcess | undefined;
    try {
      await runAll(settings.workerBacklog, 500, (i) => sessions.service.create(`user-${i % 5000}`));
      const bare = await bareConsumer(admin, streams);
      worker = await AppProcess.start('worker', 'bench-worker', {
        REDIS_URL: url,
        SESSION_PREFIX: 'bench-w',
        SESSION_SWEEP_INTERVAL_SECONDS: '3600',
        WORKER_CONCURRENCY: String(settings.workerConcurrency),
        LOG_LEVEL: 'warn',
      });
      // From the moment the worker is up (its start-up excluded).
      const started = performance.now();
      const remaining = await backlogOf(admin, streams, PROJECTION_GROUP);
      await drained(admin, streams);
      const applied = remaining / ((performance.now() - started) / 1000);
      section.figure({
        label: 'worker applying session.created',
        value: applied,
        unit: 'events/s',
        baseline: { label: 'bare XREADGROUP+XACK', value: bare },
      });

      const before = lagBuckets(await worker.metrics());
      const tickMs = 10;
      const perTick = Math.round((settings.workerRate * tickMs) / 1000);
      let sent = 0;
      const loadStart = performance.now();
      while (performance.now() - loadStart < settings.workerSeconds * 1000) {
        const tick = performance.now();
        await Promise.all(
          Array.from({ length: perTick }, (_, j) =>
            sessions.service.create(`steady-${(sent + j) % 5000}`),
          ),
        );
        sent += perTick;
        const wait = tickMs - (performance.now() - tick);
        if (wait > 0) await sleep(wait);
      }
      const achieved = sent / ((performance.now() - loadStart) / 1000);
      await drained(admin, streams);
      const lag = difference(lagBuckets(await worker.metrics()), before);
      section.figure({
        label: `projection lag p50 at ${count(achieved)} creates/s`,
        value: quantile(lag, 0.5) * 1000,
        unit: 'ms',
      });
      section.figure({
        label: `projection lag p99 at ${count(achieved)} creates/s`,
        value: quantile(lag, 0.99) * 1000,
        unit: 'ms',
      });
      section.note(
        `${count(remaining)} events left when the worker was up; ${count(observations(lag))} lag observations ` +
          'under steady load (quantiles interpolated in histogram buckets); the README targets ' +
          '≥ 20,000 events/s and p99 < 100 ms at 5,000 creates/s',
      );
    } finally {
      await worker?.stop();
      await sessions.close();
      admin.disconnect();
    }
  });
  return section;
}
