import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { readEntries } from '@app/streams';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';
import { pendingEntries, waitFor } from './streams-fixture';

const ROOT = join(__dirname, '..', '..');

interface Result {
  consumer: string;
  stream: string;
  id: string;
  key: string;
  seq: number;
  deliveryCount: number;
}

async function startConsumerProcess(config: Record<string, unknown>): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'fixtures', 'streams-consumer.ts'), [], {
    cwd: ROOT,
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      STREAMS_CONSUMER: JSON.stringify(config),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('consumer did not start in 30 s')), 30_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`consumer exited with ${code} before it was ready`));
    });
  });
  return child;
}

async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

describe('RedisStreamsServer across processes', () => {
  let redis: Redis;
  let prefix: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    redis = newRedisClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix('streams-crash');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(stopGracefully));
    await deleteKeysWithPrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('a SIGKILLed consumer loses nothing: the survivor claims its pending entries', async () => {
    const streams = [0, 1, 2, 3].map((p) => `${prefix}:p${p}`);
    const resultsKey = `${prefix}:results`;
    const common = {
      url: testRedisUrl(),
      streams,
      group: 'g',
      resultsKey,
      delayMs: 25,
      concurrency: 4,
      claimIdleMs: 1_000,
      claimIntervalMs: 100,
    };
    const [victim, survivor] = await Promise.all([
      startConsumerProcess({ ...common, consumer: 'victim' }),
      startConsumerProcess({ ...common, consumer: 'survivor' }),
    ]);
    children.push(victim, survivor);

    const EVENTS = 400;
    const KEYS = 12;
    const seq = new Array<number>(KEYS).fill(0);
    const pipeline = redis.pipeline();
    for (let i = 0; i < EVENTS; i++) {
      const k = i % KEYS;
      const data = JSON.stringify({ key: `k${k}`, seq: seq[k]++ });
      pipeline.xadd(streams[k % streams.length], '*', 'pattern', 't.e', 'data', data);
    }
    await pipeline.exec();

    const results = async (): Promise<Result[]> =>
      (await redis.lrange(resultsKey, 0, -1)).map((r) => JSON.parse(r) as Result);
    await waitFor('victim at work', async () =>
      (await results()).some((r) => r.consumer === 'victim'),
    );
    const victimHeld = async () =>
      (await Promise.all(streams.map((s) => pendingEntries(redis, s, 'g'))))
        .flat()
        .filter((p) => p.consumer === 'victim').length;
    await waitFor('victim holding entries', async () => (await victimHeld()) > 0);
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));

    // Everything is handled and acknowledged in the end.
    await waitFor(
      'every entry handled',
      async () => new Set((await results()).map((r) => `${r.stream} ${r.id}`)).size === EVENTS,
      45_000,
    );
    await waitFor('nothing pending', async () => {
      const pending = await Promise.all(streams.map((s) => pendingEntries(redis, s, 'g')));
      return pending.every((p) => p.length === 0);
    });

    const all = await results();
    const afterKill = all.filter((r) => r.consumer === 'survivor' && r.deliveryCount > 1);
    expect(afterKill.length).toBeGreaterThan(0); // claimed from the victim
    // At-least-once: only entries the victim had handled but not acknowledged come twice.
    const seen = new Map<string, number>();
    all.forEach((r) => seen.set(`${r.stream} ${r.id}`, (seen.get(`${r.stream} ${r.id}`) ?? 0) + 1));
    const duplicates = [...seen.values()].filter((n) => n > 1).length;
    expect(duplicates).toBeLessThanOrEqual(common.concurrency);
    for (const stream of streams) expect(await readEntries(redis, `${stream}:dead`)).toEqual([]);
  }, 90_000);
});
