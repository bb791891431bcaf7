import { RpcException } from '@nestjs/microservices';
import { Deferred, pendingEntries, waitFor, xadd, streamsTestContext } from './streams-fixture';

describe('RedisStreamsServer: stuck handlers and failing entries do not stop the others', () => {
  const suite = streamsTestContext('streams-stuck');

  it('times out a stuck handler: the entry is released (no ack, no lease) and another consumer finishes it, while the stuck consumer goes on', async () => {
    const stream = `${suite.prefix}:s`;
    const never = new Deferred();
    const handled: { n: number; consumer: string; deliveries: number }[] = [];
    const handler = (
      data: { n: number; stuck?: boolean },
      ctx: { getConsumer(): string; getDeliveryCount(): number },
    ) => {
      if (data.stuck && ctx.getConsumer() === 'c1') return never.promise;
      handled.push({ n: data.n, consumer: ctx.getConsumer(), deliveries: ctx.getDeliveryCount() });
      return undefined;
    };
    const orderingKey = (data: unknown) => (data as { user: string }).user;
    // c1 never claims within the test (claimIdleMs 60 s): only c2 can take the released entry.
    const c1 = await suite.start(
      {
        streams: [stream],
        group: 'g',
        consumer: 'c1',
        concurrency: 4,
        handlerTimeoutMs: 300,
        claimIdleMs: 60_000,
        orderingKey,
      },
      ['t.e'],
      handler,
    );
    const stuckId = await xadd(suite.redis, stream, 't.e', { n: 0, user: 'u1', stuck: true });
    for (let n = 1; n <= 20; n++)
      await xadd(suite.redis, stream, 't.e', { n, user: n % 2 === 0 ? 'u1' : `u${n}` });
    await waitFor('the 20 others handled by c1', () => handled.length === 20);
    expect(handled.every((h) => h.consumer === 'c1')).toBe(true);
    // Same user after the stuck entry too: its key was released with it.
    expect(handled.filter((h) => h.n % 2 === 0)).toHaveLength(10);
    await waitFor('the last acknowledgements', () => c1.server.stats().inFlight === 0);
    expect(c1.server.stats()).toMatchObject({ timedOut: 1, stuck: 1, running: 0 });
    expect(await pendingEntries(suite.redis, stream, 'g')).toMatchObject([
      { id: stuckId, consumer: 'c1' },
    ]);

    await suite.start(
      { streams: [stream], group: 'g', consumer: 'c2', claimIdleMs: 1_000, orderingKey },
      ['t.e'],
      handler,
    );
    await waitFor('the stuck entry handled by c2', () => handled.some((h) => h.n === 0));
    expect(handled.find((h) => h.n === 0)).toEqual({ n: 0, consumer: 'c2', deliveries: 2 });
    await waitFor(
      'nothing pending',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    never.resolve();
    await waitFor('the stuck handler settled', () => c1.server.stats().stuck === 0);
  });

  it('keeps reading other keys while failing entries wait for their retries', async () => {
    const stream = `${suite.prefix}:s`;
    const order: string[] = [];
    const failures = new Map<string, number>();
    const consumer = await suite.start(
      {
        streams: [stream],
        group: 'g',
        concurrency: 2,
        batchSize: 2,
        retryDelayMs: 2000,
        maxDeliveries: 5,
        orderingKey: (data) => (data as { user: string }).user,
      },
      ['t.e'],
      (data: { user: string; flaky?: boolean }) => {
        if (data.flaky && (failures.get(data.user) ?? 0) < 1) {
          failures.set(data.user, 1);
          throw new RpcException('transient');
        }
        order.push(data.user);
        return undefined;
      },
    );
    await xadd(suite.redis, stream, 't.e', { user: 'a', flaky: true });
    await xadd(suite.redis, stream, 't.e', { user: 'b', flaky: true });
    for (let i = 0; i < 10; i++) await xadd(suite.redis, stream, 't.e', { user: `other-${i}` });
    await waitFor('all handled', () => order.length === 12);
    // Both failing entries filled the concurrency while waiting 2 s for their retry; the
    // others were read and handled meanwhile, not after them.
    expect(order.indexOf('other-9')).toBeLessThan(order.indexOf('a'));
    expect(order.indexOf('other-9')).toBeLessThan(order.indexOf('b'));
    expect(consumer.server.stats()).toMatchObject({ failed: 2, processed: 12, deadLettered: 0 });
  });

  it('dead-letters an entry whose handler throws a permanent error after one delivery', async () => {
    const stream = `${suite.prefix}:s`;
    let runs = 0;
    const consumer = await suite.start({ streams: [stream], group: 'g' }, ['t.e'], () => {
      runs++;
      throw new RpcException({ message: 'cannot read v9', permanent: true });
    });
    await xadd(suite.redis, stream, 't.e', { v: 9 });
    await waitFor('dead-lettered', () => consumer.server.stats().deadLettered === 1);
    expect(runs).toBe(1);
    const [[, fields]] = await suite.redis.xrange(`${stream}:dead`, '-', '+');
    expect(fields).toEqual(expect.arrayContaining(['reason', 'permanent', 'deliveryCount', '1']));
  });
});
