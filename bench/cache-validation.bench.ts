/**
 * Benchmark of the local cache (issue: "Local session cache on every instance").
 *
 *   npm run bench:cache
 *
 * 1. Validations per second on one core (one Node process, sequential awaits, private
 *    redis-server): an L1 hit, an L1 miss (cache off: one Lua round trip), and the baseline, a raw
 *    ioredis GET of one key. Printed as ratios against the GET.
 * 2. Revocation propagation across three instance processes: p50 / p99 / max from the moment the
 *    revoke is sent to the moment each other instance receives the invalidation.
 */
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { type CreatedSession, SessionModule, SessionService } from '@app/session';
import { InstanceProcess, percentile } from '../test/multi-instance/instance-process';
import { RedisServerProcess } from '../test/support/redis-server-process';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);

async function opsPerSecond(label: string, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 2000; i++) await op(); // warm-up (JIT, connection, script cache)
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < DURATION_MS) {
    for (let i = 0; i < 100; i++) await op();
    count += 100;
  }
  const rate = count / ((performance.now() - started) / 1000);
  console.log(
    `  ${label.padEnd(34)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s`,
  );
  return rate;
}

async function sessionService(
  url: string,
  cache: boolean,
): Promise<{ service: SessionService; close(): Promise<void> }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SessionModule.forRoot({
        redis: { url },
        keyPrefix: `bench-${cache ? 'l1' : 'nol1'}`,
        cache: { enabled: cache },
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const service = moduleRef.get(SessionService);
  while (cache && !service.invalidationsConnected)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return { service, close: () => moduleRef.close() };
}

async function validationThroughput(url: string): Promise<void> {
  console.log(`\nValidations per second, one core, ${DURATION_MS} ms each:`);
  const raw = new Redis(url);
  await raw.set('bench:raw', JSON.stringify({ userId: 'alice', createdAt: Date.now() }));
  const get = await opsPerSecond('baseline: raw ioredis GET', () => raw.get('bench:raw'));

  const withCache = await sessionService(url, true);
  const hitToken = (await withCache.service.create('alice', { roles: ['user'] })).token;
  const hit = await opsPerSecond('L1 hit (validate)', () => withCache.service.validate(hitToken));

  const withoutCache = await sessionService(url, false);
  const missToken = (await withoutCache.service.create('alice', { roles: ['user'] })).token;
  const miss = await opsPerSecond('L1 miss (cache off, 1 Lua call)', () =>
    withoutCache.service.validate(missToken),
  );

  console.log(
    `  ratios vs raw GET: L1 hit ${(hit / get).toFixed(1)}x, L1 miss ${(miss / get).toFixed(2)}x (target: hit >= 10x)`,
  );
  await withCache.close();
  await withoutCache.close();
  raw.disconnect();
}

async function propagation(url: string): Promise<void> {
  const count = Number(process.env.BENCH_REVOCATIONS ?? 2000);
  console.log(`\nRevocation propagation, 3 instance processes, ${count} revocations:`);
  const options = { redis: { url }, keyPrefix: 'bench-prop' };
  const instances = await Promise.all(
    ['a', 'b', 'c'].map((name) => InstanceProcess.start(name, options)),
  );
  try {
    for (const instance of instances)
      while (!(await instance.call<boolean>('connected')))
        await new Promise((r) => setTimeout(r, 10));
    const [a, ...others] = instances;
    const sessions: CreatedSession[] = [];
    for (let i = 0; i < count; i++)
      sessions.push(await a.call<CreatedSession>('create', `user-${i % 100}`));
    for (const instance of others)
      for (const s of sessions) await instance.call('validate', s.token);
    const started: number[] = [];
    for (const s of sessions)
      started.push((await a.call<{ startedAt: number }>('revoke', s.sessionId)).startedAt);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const delays: number[] = [];
    for (const instance of others) {
      const receipts = await instance.call<(number | null)[]>(
        'receipts',
        sessions.map((s) => s.sessionId),
      );
      receipts.forEach((at, i) => at !== null && delays.push(at - started[i]));
    }
    delays.sort((x, y) => x - y);
    console.log(
      `  ${delays.length} deliveries: p50 ${percentile(delays, 50).toFixed(2)} ms, p99 ${percentile(delays, 99).toFixed(2)} ms, ` +
        `max ${delays[delays.length - 1].toFixed(2)} ms (target: p99 < 5 ms on an idle machine)`,
    );
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()));
  }
}

async function main(): Promise<void> {
  const redis = await RedisServerProcess.start();
  console.log(`private redis-server on ${redis.url}`);
  try {
    await validationThroughput(redis.url);
    await propagation(redis.url);
  } finally {
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
