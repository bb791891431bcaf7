import {
  FakeRedis,
  fakeHost,
  type FakeHandler,
  fakeRuntime,
  type SentCommand,
} from '../../../test/streams/support/fake-runtime';
import { Acknowledger } from './redis-streams.acknowledger';
import { DeadLetterer } from './redis-streams.dead-letterer';
import { ConsumerGroups } from './redis-streams.groups';
import { EntryProcessor } from './redis-streams.processor';
import { RedisStreamsPermanentError } from './redis-streams.errors';
import { createCounters, type HeldEntry } from './redis-streams.runtime';
import { CapacityGate } from './redis-streams.scheduler';

/** Redis answering the lease script with `renewed` ids and everything else with OK. */
function redisRenewing(renewed: (command: SentCommand) => string[]): FakeRedis {
  return new FakeRedis((c) => (c[0] === 'EVALSHA' ? renewed(c) : 'OK'));
}

function processor(handlers: Record<string, FakeHandler>, redis: FakeRedis, options = {}) {
  const runtime = fakeRuntime({ retryDelayMs: 0, maxDeliveries: 3, ...options }, redis);
  const counters = createCounters();
  const acks = new Acknowledger(runtime, new ConsumerGroups(runtime, ['s']), counters);
  const dlq = new DeadLetterer(runtime, counters);
  const p = new EntryProcessor(runtime, fakeHost(handlers), acks, dlq, counters);
  return { runtime, counters, p };
}

const held = (deliveryCount = 1): HeldEntry => ({
  stream: 's',
  partition: 0,
  id: '1-0',
  deliveryCount,
  lost: false,
});
const fields = { pattern: 'e', data: '{}' };

describe('EntryProcessor', () => {
  it('runs the handler with its context, then acknowledges', async () => {
    const redis = redisRenewing(() => []);
    const seen: unknown[] = [];
    const { p, counters } = processor(
      { e: (data, ctx) => seen.push([data, ctx.getId(), ctx.getDeliveryCount()]) },
      redis,
    );
    await p.process(held(), 'e', { n: 1 }, fields);
    expect(seen).toEqual([[{ n: 1 }, '1-0', 1]]);
    expect(redis.sent).toEqual([['XACK', 's', 'g', '1-0']]);
    expect(counters.processed).toBe(1);
  });

  it('acknowledges and counts an entry without a handler', async () => {
    const redis = redisRenewing(() => []);
    const { p, counters } = processor({}, redis);
    await p.process(held(), 'unknown', {}, fields);
    expect(redis.names()).toEqual(['XACK']);
    expect(counters.ignored).toBe(1);
  });

  it('dead-letters an entry without a handler with unhandledPatterns "dead-letter"', async () => {
    const redis = redisRenewing(() => []);
    const { p, counters } = processor({}, redis, { unhandledPatterns: 'dead-letter' });
    await p.process(held(), 'unknown', {}, fields);
    expect(redis.names()).toEqual(['XADD', 'XACK']);
    expect(redis.sent[0]).toEqual(expect.arrayContaining(['reason', 'unhandled']));
    expect(counters).toMatchObject({ ignored: 0, deadLettered: 1 });
  });

  it('dead-letters a permanent failure at once, without retrying', async () => {
    const redis = redisRenewing((c) => [String(c.at(-1))]);
    const run = jest.fn(() => {
      throw new RedisStreamsPermanentError('schema v9');
    });
    const { p, counters } = processor({ e: run }, redis);
    await p.process(held(), 'e', {}, fields);
    expect(run).toHaveBeenCalledTimes(1);
    expect(redis.names()).toEqual(['XADD', 'XACK']);
    expect(counters.deadLetteredByReason.permanent).toBe(1);
  });

  it('releases an entry whose handler times out: no ack, no retry, not held; dead-letters it on its last delivery', async () => {
    const redis = redisRenewing((c) => [String(c.at(-1))]);
    let finish!: () => void;
    const stuck = () => new Promise<void>((resolve) => (finish = resolve));
    const { p, counters } = processor({ e: stuck }, redis, { handlerTimeoutMs: 20 });
    const entry = held();
    await p.process(entry, 'e', {}, fields);
    expect(entry.lost).toBe(true);
    expect(redis.sent).toEqual([]);
    expect(counters.timedOut).toBe(1);
    expect(p.stuck).toBe(1);
    expect(p.running).toBe(0);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.stuck).toBe(0);
    expect(redis.sent).toEqual([]); // the late success acknowledges nothing

    await p.process(held(3), 'e', {}, fields);
    expect(redis.names()).toEqual(['XADD', 'XACK']);
    expect(counters.deadLetteredByReason.timeout).toBe(1);
    finish();
  });

  it('excuses an entry waiting for a retry from the read gate', async () => {
    const redis = redisRenewing((c) => [String(c.at(-1))]);
    const runtime = fakeRuntime({ retryDelayMs: 30, maxDeliveries: 3, concurrency: 1 }, redis);
    const counters = createCounters();
    const acks = new Acknowledger(runtime, new ConsumerGroups(runtime, ['s']), counters);
    const gate = new CapacityGate(1);
    let calls = 0;
    const host = fakeHost({
      e: () => {
        if (++calls === 1) throw new Error('flaky');
      },
    });
    const p = new EntryProcessor(
      runtime,
      host,
      acks,
      new DeadLetterer(runtime, counters),
      counters,
      gate,
    );
    gate.increment(); // the dispatcher holds the entry
    const done = p.process(held(), 'e', {}, fields);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(gate.free).toBe(1); // waiting for its retry: room to read others
    await done;
    expect(gate.free).toBe(0);
    expect(counters.processed).toBe(1);
  });

  it('retries a failing handler in place, recording each delivery in Redis', async () => {
    const redis = redisRenewing((c) => [String(c.at(-1))]);
    let calls = 0;
    const deliveries: number[] = [];
    const { p, counters } = processor(
      {
        e: (_data, ctx) => {
          deliveries.push(ctx.getDeliveryCount());
          if (++calls < 3) throw new Error('flaky');
        },
      },
      redis,
    );
    await p.process(held(), 'e', {}, fields);
    expect(deliveries).toEqual([1, 2, 3]);
    expect(counters).toMatchObject({ failed: 2, processed: 1 });
    // The lease script with RETRYCOUNT 2, then 3 (ARGV[3]).
    const retryCounts = redis.sent.filter((c) => c[0] === 'EVALSHA').map((c) => c[6]);
    expect(retryCounts).toEqual([2, 3]);
    expect(redis.names().at(-1)).toBe('XACK');
  });

  it('dead-letters after maxDeliveries failed deliveries', async () => {
    const redis = redisRenewing((c) => [String(c.at(-1))]);
    const { p, counters } = processor(
      {
        e: () => {
          throw new Error('poison');
        },
      },
      redis,
    );
    await p.process(held(), 'e', {}, fields);
    expect(counters).toMatchObject({ failed: 3, deadLettered: 1, processed: 0 });
    expect(redis.names().slice(-2)).toEqual(['XADD', 'XACK']);
  });

  it('dead-letters without running an entry that arrives over-delivered', async () => {
    const redis = redisRenewing(() => []);
    const run = jest.fn();
    const { p, counters } = processor({ e: run }, redis);
    await p.process(held(4), 'e', {}, fields);
    expect(run).not.toHaveBeenCalled();
    expect(counters.deadLettered).toBe(1);
  });

  it('stops retrying an entry taken over by another consumer', async () => {
    const redis = redisRenewing(() => []); // the lease script finds it owned elsewhere
    const entry = held();
    const { p } = processor(
      {
        e: () => {
          throw new Error('fails');
        },
      },
      redis,
    );
    await p.process(entry, 'e', {}, fields);
    expect(entry.lost).toBe(true);
    expect(redis.names()).toEqual(['EVALSHA']);
  });

  it('starts nothing after close() or once the entry is lost', async () => {
    const redis = redisRenewing(() => []);
    const run = jest.fn();
    const { p, runtime } = processor({ e: run }, redis);
    await p.process({ ...held(), lost: true }, 'e', {}, fields);
    runtime.close();
    await p.process(held(), 'e', {}, fields);
    expect(run).not.toHaveBeenCalled();
    expect(redis.sent).toEqual([]);
  });

  it('acknowledges nothing once abandoned by close()', async () => {
    const redis = redisRenewing(() => []);
    const { p, counters } = processor({ e: () => undefined }, redis);
    p.abandon();
    await p.process(held(), 'e', {}, fields);
    await p.deadLetter(held(), fields, 'late', 'failed');
    expect(counters.processed).toBe(1);
    expect(redis.sent).toEqual([]);
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    const redis = redisRenewing(() => []);
    let running = 0;
    let max = 0;
    const { p } = processor(
      {
        e: async () => {
          max = Math.max(max, ++running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
        },
      },
      redis,
      { concurrency: 2 },
    );
    await Promise.all(
      ['1-0', '2-0', '3-0', '4-0', '5-0'].map((id) =>
        p.process({ ...held(), id }, 'e', {}, fields),
      ),
    );
    expect(max).toBe(2);
  });
});
