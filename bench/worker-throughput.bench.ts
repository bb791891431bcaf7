/**
 * Benchmark of the worker (issue: "A Redis Streams transport ... and the worker").
 *
 *   npm run bench:worker
 *
 * 1. Events applied per second by one worker process, draining a backlog of session.created
 *    events, against a named baseline measured in the same run: a bare consumer loop
 *    (XREADGROUP COUNT 100 + XACK, no handler) in this process.
 * 2. Projection lag (event written → user index updated) under a steady 5,000 creates/s, from the
 *    worker's own histogram.
 */
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { SessionModule, SessionService } from '@app/session';
import { RedisServerProcess } from '../test/support/redis-server-process';
import { AppProcess } from '../test/support/app-process';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

async function sessionsOn(
  url: string,
  prefix: string,
): Promise<{ service: SessionService; close(): Promise<void> }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SessionModule.forRoot({
        redis: { url, options: { enableAutoPipelining: true } },
        keyPrefix: prefix,
        cache: { enabled: false },
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return { service: moduleRef.get(SessionService), close: () => moduleRef.close() };
}

async function backlogOf(redis: Redis, streams: string[], group: string): Promise<number> {
  let total = 0;
  for (const stream of streams) {
    for (const raw of (await redis.xinfo('GROUPS', stream)) as unknown[][]) {
      const info = Object.fromEntries(
        Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i], raw[2 * i + 1]]),
      );
      if (info.name === group) total += Number(info.pending) + Number(info.lag ?? 0);
    }
  }
  return total;
}

async function fillBacklog(service: SessionService, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - i) }, (_, j) =>
        service.create(`user-${(i + j) % 5000}`),
      ),
    );
  }
}

/** The floor: read and acknowledge the same backlog with no handler at all. */
async function bareConsumer(redis: Redis, streams: string[]): Promise<number> {
  const group = 'bench-bare';
  for (const stream of streams) await redis.xgroup('CREATE', stream, group, '0');
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
    )) as [string, [string, string[]][]][] | null;
    if (!reply) break;
    for (const [stream, entries] of reply) {
      if (entries.length === 0) continue;
      await redis.xack(stream, group, ...entries.map(([id]) => id));
      consumed += entries.length;
    }
  }
  return consumed / ((performance.now() - started) / 1000);
}

function quantileFromHistogram(metrics: string, q: number): number {
  const buckets = [
    ...metrics.matchAll(/session_worker_projection_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/g),
  ].map((m) => ({
    le: m[1] === '+Inf' ? Infinity : Number(m[1]),
    count: Number(m[2]),
  }));
  const total = buckets[buckets.length - 1].count;
  const target = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of buckets) {
    if (bucket.count >= target) {
      if (bucket.le === Infinity) return previous.le;
      const share =
        bucket.count === previous.count
          ? 1
          : (target - previous.count) / (bucket.count - previous.count);
      return previous.le + share * (bucket.le - previous.le);
    }
    previous = bucket;
  }
  return NaN;
}

async function main(): Promise<void> {
  const redis = await RedisServerProcess.start();
  const admin = new Redis(redis.url);
  console.log(`private redis-server on ${redis.url}`);
  try {
    // 1. Throughput on a backlog.
    const prefix = 'bench-w';
    const sessions = await sessionsOn(redis.url, prefix);
    await fillBacklog(sessions.service, BACKLOG);
    const streams = sessions.service.keys.allEventStreams();
    const bare = await bareConsumer(admin, streams);
    const env = {
      REDIS_URL: redis.url,
      SESSION_PREFIX: prefix,
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
      WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY ?? '64',
      LOG_LEVEL: 'warn',
    };
    const worker = await AppProcess.start('worker', 'bench-worker', env);
    // Measured from the moment the worker is up (process start-up excluded).
    const started = performance.now();
    const remaining = await backlogOf(admin, streams, 'session-projections');
    while ((await backlogOf(admin, streams, 'session-projections')) > 0)
      await new Promise((r) => setTimeout(r, 20));
    const applied = remaining / ((performance.now() - started) / 1000);
    console.log(
      `\nOne worker draining a backlog of session.created events (${remaining.toLocaleString('en-US')} left when it was up):`,
    );
    console.log(
      `  baseline: bare XREADGROUP+XACK loop  ${Math.round(bare).toLocaleString('en-US').padStart(10)} events/s`,
    );
    console.log(
      `  worker (index + expiry projection)   ${Math.round(applied).toLocaleString('en-US').padStart(10)} events/s`,
    );
    console.log(
      `  ratio worker / bare loop: ${(applied / bare).toFixed(2)}x (target: >= 20,000 events/s)`,
    );

    // 2. Lag under a steady load.
    const before = await worker.metrics();
    const beforeCount = Number(
      /session_worker_projection_lag_seconds_count (\d+)/.exec(before)?.[1] ?? 0,
    );
    const interval = 10; // ms
    const perTick = Math.round((RATE * interval) / 1000);
    let sent = 0;
    const loadStart = performance.now();
    while (performance.now() - loadStart < SECONDS * 1000) {
      const tick = performance.now();
      await Promise.all(
        Array.from({ length: perTick }, (_, j) =>
          sessions.service.create(`steady-${(sent + j) % 5000}`),
        ),
      );
      sent += perTick;
      const wait = interval - (performance.now() - tick);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const achieved = sent / ((performance.now() - loadStart) / 1000);
    while ((await backlogOf(admin, streams, 'session-projections')) > 0)
      await new Promise((r) => setTimeout(r, 20));
    // Only this phase's observations: subtract the backlog phase's histogram.
    const after = await worker.metrics();
    const diff = after.replace(
      /session_worker_projection_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/g,
      (line, le: string, count: string) => {
        const old = new RegExp(
          `session_worker_projection_lag_seconds_bucket\\{le="${le.replace('+', '\\+')}"\\} (\\d+)`,
        ).exec(before);
        return `session_worker_projection_lag_seconds_bucket{le="${le}"} ${Number(count) - Number(old?.[1] ?? 0)}`;
      },
    );
    const afterCount = Number(
      /session_worker_projection_lag_seconds_count (\d+)/.exec(after)?.[1] ?? 0,
    );
    console.log(
      `\nProjection lag at ${Math.round(achieved).toLocaleString('en-US')} creates/s for ${SECONDS} s (${afterCount - beforeCount} events):`,
    );
    console.log(
      `  p50 ${(quantileFromHistogram(diff, 0.5) * 1000).toFixed(1)} ms, p99 ${(quantileFromHistogram(diff, 0.99) * 1000).toFixed(1)} ms ` +
        '(from histogram buckets; target: p99 < 100 ms at 5,000 creates/s)',
    );
    await worker.stop();
    await sessions.close();
  } finally {
    admin.disconnect();
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
