import {
  pendingEntries,
  waitFor,
  type RunningConsumer,
  streamsTestContext,
} from './streams-fixture';
import { sleep } from '../support/sleep';

describe('RedisStreamsServer concurrency and per-key ordering', () => {
  const suite = streamsTestContext('streams-order');
  let consumer: RunningConsumer | undefined;

  it('applies 1,000 events over 20 keys in order per key, never above the concurrency limit', async () => {
    const PARTITIONS = 4;
    const KEYS = 20;
    const EVENTS = 1_000;
    const CONCURRENCY = 8;
    const streams = Array.from({ length: PARTITIONS }, (_, p) => `${suite.prefix}:p${p}`);
    // A key always lives on one partition, as with the session streams.
    const streamOf = (key: number) => streams[key % PARTITIONS];

    const applied = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    let keyViolations = 0;
    const runningKeys = new Set<string>();
    consumer = await suite.start(
      {
        streams,
        group: 'g',
        concurrency: CONCURRENCY,
        batchSize: 25,
        orderingKey: (data) => (data as { key: string }).key,
      },
      ['t.seq'],
      async (data: { key: string; seq: number }) => {
        if (runningKeys.has(data.key)) keyViolations++;
        runningKeys.add(data.key);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(Math.random() * 4);
        running--;
        runningKeys.delete(data.key);
        const list = applied.get(data.key) ?? [];
        list.push(data.seq);
        applied.set(data.key, list);
      },
    );

    const nextSeq = new Array<number>(KEYS).fill(0);
    const pipeline = suite.redis.pipeline();
    for (let i = 0; i < EVENTS; i++) {
      const key = Math.floor(Math.random() * KEYS);
      const data = { key: `k${key}`, seq: nextSeq[key]++ };
      pipeline.xadd(streamOf(key), '*', 'pattern', 't.seq', 'data', JSON.stringify(data));
    }
    await pipeline.exec();

    await waitFor(
      'all events applied',
      () => [...applied.values()].reduce((n, l) => n + l.length, 0) === EVENTS,
      30_000,
    );
    for (let key = 0; key < KEYS; key++) {
      const expected = Array.from({ length: nextSeq[key] }, (_, i) => i);
      expect({ key, seqs: applied.get(`k${key}`) ?? [] }).toEqual({ key, seqs: expected });
    }
    expect(keyViolations).toBe(0);
    expect(maxRunning).toBeLessThanOrEqual(CONCURRENCY);
    // Different keys did run in parallel.
    expect(maxRunning).toBeGreaterThan(1);
    await waitFor('all acked', async () => {
      const counts = await Promise.all(streams.map((s) => pendingEntries(suite.redis, s, 'g')));
      return counts.every((c) => c.length === 0);
    });
    expect(consumer.server.stats()).toMatchObject({ processed: EVENTS, inFlight: 0, running: 0 });
  });

  it('pauses reading while saturated: never holds more than concurrency + one batch', async () => {
    const stream = `${suite.prefix}:s`;
    const release: Array<() => void> = [];
    consumer = await suite.start(
      { streams: [stream], group: 'g', concurrency: 3, batchSize: 2 },
      ['t.block'],
      () => new Promise<void>((resolve) => release.push(resolve)),
    );
    const pipeline = suite.redis.pipeline();
    for (let i = 0; i < 50; i++) pipeline.xadd(stream, '*', 'pattern', 't.block', 'data', '{}');
    await pipeline.exec();

    await waitFor('three running', () => release.length === 3);
    // Give the loop ample opportunity to (wrongly) read more.
    await sleep(300);
    const delivered = (await pendingEntries(suite.redis, stream, 'g')).length;
    expect(delivered).toBeLessThanOrEqual(3 + 2);
    expect(consumer.server.stats().running).toBe(3);
    expect(release).toHaveLength(3);

    // Releasing lets the rest through.
    const drain = setInterval(() => release.splice(0).forEach((r) => r()), 5);
    try {
      await waitFor('all processed', () => consumer!.server.stats().processed === 50);
    } finally {
      clearInterval(drain);
    }
  });

  it('keeps per-key order across a failing entry: later entries of the key wait for its retry', async () => {
    const stream = `${suite.prefix}:s`;
    const applied: string[] = [];
    let failures = 0;
    consumer = await suite.start(
      {
        streams: [stream],
        group: 'g',
        concurrency: 4,
        retryDelayMs: 30,
        orderingKey: (data) => (data as { key: string }).key,
      },
      ['t.e'],
      (data: { key: string; n: number }) => {
        if (data.key === 'a' && data.n === 0 && failures < 2) {
          failures++;
          throw new Error('first attempt fails');
        }
        applied.push(`${data.key}${data.n}`);
      },
    );
    for (const [key, n] of [
      ['a', 0],
      ['b', 0],
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ] as const) {
      await suite.redis.xadd(stream, '*', 'pattern', 't.e', 'data', JSON.stringify({ key, n }));
    }
    await waitFor('all applied', () => applied.length === 5);
    expect(applied.filter((x) => x.startsWith('a'))).toEqual(['a0', 'a1', 'a2']);
    expect(applied.filter((x) => x.startsWith('b'))).toEqual(['b0', 'b1']);
    // b was not held up by a's retries.
    expect(applied.indexOf('b1')).toBeLessThan(applied.indexOf('a0'));
  });
});
