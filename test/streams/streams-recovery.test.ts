import Redis from 'ioredis';
import { RedisStreamsServer } from '@app/streams';
import { sleep } from '../support/sleep';
import { testRedisUrl } from '../support/test-redis';
import {
  Deferred,
  pendingEntries,
  settledWithin,
  waitFor,
  watchConcurrentReads,
  xadd,
  streamsTestContext,
} from './streams-fixture';

describe('RedisStreamsServer recovery', () => {
  const suite = streamsTestContext('streams-recovery');

  it('re-reads its own pending entries on restart, before new ones, with their delivery count', async () => {
    const stream = `${suite.prefix}:s`;
    await suite.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    const old1 = await xadd(suite.redis, stream, 't.e', { n: 1 });
    const old2 = await xadd(suite.redis, stream, 't.e', { n: 2 });
    // A previous run of consumer "c1" read both and died before acknowledging.
    await suite.redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
    const fresh = await xadd(suite.redis, stream, 't.e', { n: 3 });

    const seen: Array<[string, number]> = [];
    await suite.start(
      // A long claimIdleMs: only the pending re-read can bring old1/old2 back here.
      { streams: [stream], group: 'g', consumer: 'c1', concurrency: 1, claimIdleMs: 60_000 },
      ['t.e'],
      (_data, ctx) => {
        seen.push([ctx.getId(), ctx.getDeliveryCount()]);
      },
    );
    await waitFor('three entries', () => seen.length === 3);
    expect(seen).toEqual([
      [old1, 2],
      [old2, 2],
      [fresh, 1],
    ]);
    await waitFor(
      'acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
  });

  it('restarting with unfinished work: close() leaves it pending and the next run finishes it', async () => {
    const stream = `${suite.prefix}:s`;
    const never = new Deferred();
    const first = await suite.start(
      { streams: [stream], group: 'g', consumer: 'stable', shutdownTimeoutMs: 100 },
      ['t.e'],
      () => never.promise,
    );
    const id = await xadd(suite.redis, stream, 't.e', { n: 1 });
    await waitFor('running', () => first.server.stats().running === 1);
    await first.close();
    expect(await pendingEntries(suite.redis, stream, 'g')).toMatchObject([
      { id, consumer: 'stable' },
    ]);

    const done: string[] = [];
    await suite.start(
      { streams: [stream], group: 'g', consumer: 'stable', claimIdleMs: 60_000 },
      ['t.e'],
      (_d, ctx) => {
        done.push(ctx.getId());
      },
    );
    await waitFor('finished by the restarted consumer', () => done.length === 1);
    expect(done).toEqual([id]);
    await waitFor(
      'acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
  });

  it('retries a failed XACK at once instead of leaving the handled entry to the claim', async () => {
    const stream = `${suite.prefix}:s`;
    const handled: string[] = [];
    const consumer = await suite.start(
      // Without the retry, the entry would come back only after claimIdleMs (a minute).
      { streams: [stream], group: 'g', claimIdleMs: 60_000, retryDelay: 20 },
      ['t.e'],
      (_d, ctx) => {
        handled.push(ctx.getId());
      },
    );
    // The first two acknowledgements fail as if the node were failing over.
    const [, commands] = consumer.server.unwrap<[Redis, Redis]>();
    const call = commands.call.bind(commands) as (...args: unknown[]) => Promise<unknown>;
    let failures = 0;
    (commands as unknown as { call: typeof call }).call = (...args) => {
      if (String(args[0]).toUpperCase() === 'XACK' && failures < 2) {
        failures++;
        return Promise.reject(new Error('Connection is closed.'));
      }
      return call(...args);
    };
    const id = await xadd(suite.redis, stream, 't.e', { n: 1 });
    const started = Date.now();
    // Handled first: before it is read, nothing is pending either.
    await waitFor('handled', () => handled.length === 1);
    await waitFor(
      'acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    console.log(`acknowledged after 2 failed XACKs in ${Date.now() - started} ms`);
    expect(failures).toBe(2);
    expect(handled).toEqual([id]); // handled once: only the XACK was repeated
    // Acknowledged by the retried XACK, not after a claim (claimIdleMs is a minute).
    expect(consumer.server.stats()).toMatchObject({ processed: 1, failed: 0, claimed: 0 });
  });

  it('a second consumer takes over (XAUTOCLAIM) what a dead consumer left pending', async () => {
    const streams = [`${suite.prefix}:s0`, `${suite.prefix}:s1`];
    const never = new Deferred();
    const doomed = await suite.start(
      { streams, group: 'g', consumer: 'doomed', shutdownTimeoutMs: 50 },
      ['t.e'],
      () => never.promise,
    );
    const ids = [
      await xadd(suite.redis, streams[0], 't.e', { n: 0 }),
      await xadd(suite.redis, streams[1], 't.e', { n: 1 }),
    ];
    await waitFor('both running', () => doomed.server.stats().running === 2);
    await doomed.close(); // gives up on its handlers: nothing acknowledged

    const pendingBefore = [
      ...(await pendingEntries(suite.redis, streams[0], 'g')),
      ...(await pendingEntries(suite.redis, streams[1], 'g')),
    ];
    expect(pendingBefore.map((p) => p.consumer)).toEqual(['doomed', 'doomed']);

    const taken: Array<{ id: string; stream: string; partition: number; deliveries: number }> = [];
    const rescuer = await suite.start(
      { streams, group: 'g', consumer: 'rescuer', claimIdleMs: 300, claimIntervalMs: 50 },
      ['t.e'],
      (_d, ctx) => {
        taken.push({
          id: ctx.getId(),
          stream: ctx.getStream(),
          partition: ctx.getPartition(),
          deliveries: ctx.getDeliveryCount(),
        });
      },
    );
    await waitFor('both taken over', () => taken.length === 2);
    expect(taken.map((t) => `${t.partition}:${t.id}`).sort()).toEqual(
      [`0:${ids[0]}`, `1:${ids[1]}`].sort(),
    );
    expect(taken.every((t) => t.deliveries === 2)).toBe(true);
    await waitFor('acked', async () => {
      const p = await Promise.all(streams.map((s) => pendingEntries(suite.redis, s, 'g')));
      return p.every((x) => x.length === 0);
    });
    expect(rescuer.server.stats()).toMatchObject({ claimed: 2, processed: 2 });
  });

  it('handles entries trimmed while pending (nil fields / XAUTOCLAIM deleted ids) without crashing', async () => {
    const stream = `${suite.prefix}:s`;
    await suite.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    const gone = [
      await xadd(suite.redis, stream, 't.e', { n: 0 }),
      await xadd(suite.redis, stream, 't.e', { n: 1 }),
      await xadd(suite.redis, stream, 't.e', { n: 2 }),
    ];
    const kept = await xadd(suite.redis, stream, 't.e', { n: 3 });
    // Own pending (re-read with id 0 gives nil fields) and a dead consumer's (XAUTOCLAIM).
    await suite.redis.xreadgroup('GROUP', 'g', 'me', 'COUNT', 2, 'STREAMS', stream, '>');
    await suite.redis.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 2, 'STREAMS', stream, '>');
    await suite.redis.xdel(stream, gone[0]);
    await suite.redis.xtrim(stream, 'MINID', kept); // drops gone[1] and gone[2]
    expect(await suite.redis.xlen(stream)).toBe(1);

    const seen: string[] = [];
    const consumer = await suite.start(
      { streams: [stream], group: 'g', consumer: 'me', claimIdleMs: 200, claimIntervalMs: 50 },
      ['t.e'],
      (_d, ctx) => {
        seen.push(ctx.getId());
      },
    );
    await waitFor('kept entry handled', () => seen.length === 1);
    await waitFor(
      'no pending left',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    expect(seen).toEqual([kept]);
    expect(consumer.server.stats().trimmed).toBe(3);
    // Still consuming afterwards.
    const later = await xadd(suite.redis, stream, 't.e', { n: 4 });
    await waitFor('later entry', () => seen.includes(later));
  });

  it('close() waits for running handlers, acknowledges them, and stops reading', async () => {
    const stream = `${suite.prefix}:s`;
    const gate = new Deferred();
    const finished: number[] = [];
    const consumer = await suite.start(
      { streams: [stream], group: 'g', concurrency: 2, shutdownTimeoutMs: 5_000 },
      ['t.e'],
      async (data) => {
        await gate.promise;
        finished.push(data.n);
      },
    );
    for (let n = 0; n < 5; n++) await xadd(suite.redis, stream, 't.e', { n });
    await waitFor('two running', () => consumer.server.stats().running === 2);

    const closing = consumer.close();
    expect(await settledWithin(closing, 100)).toBe('pending'); // waiting for the two handlers
    gate.resolve();
    await closing;

    expect(finished).toHaveLength(2);
    const pending = await pendingEntries(suite.redis, stream, 'g');
    // The two finished ones were acknowledged; queued ones were not started and stay pending.
    expect(pending.length).toBeLessThanOrEqual(3);
    expect(pending.every((p) => p.consumer === 'c1')).toBe(true);
    const readBefore = await groupEntriesRead(suite.redis, stream);
    await xadd(suite.redis, stream, 't.e', { n: 99 });
    // Nothing reads any more: entries-read of the group does not move.
    await sleep(300);
    expect(await groupEntriesRead(suite.redis, stream)).toBe(readBefore);
    expect(finished).toHaveLength(2);
  });

  it('close() gives up after shutdownTimeoutMs and does not acknowledge late finishers', async () => {
    const stream = `${suite.prefix}:s`;
    const gate = new Deferred();
    let handlerDone = false;
    const consumer = await suite.start(
      { streams: [stream], group: 'g', shutdownTimeoutMs: 100 },
      ['t.e'],
      async () => {
        await gate.promise;
        handlerDone = true;
      },
    );
    const id = await xadd(suite.redis, stream, 't.e', {});
    await waitFor('running', () => consumer.server.stats().running === 1);
    // Any acknowledgement attempted from here on is counted (the connection is closed by then,
    // so the entry would stay pending anyway: only the attempt tells).
    const [, commands] = consumer.server.unwrap<[Redis, Redis]>();
    const call = commands.call.bind(commands) as (...args: unknown[]) => Promise<unknown>;
    let acks = 0;
    (commands as unknown as { call: typeof call }).call = (...args) => {
      if (/^XACK/i.test(String(args[0]))) acks++;
      return call(...args);
    };
    const started = Date.now();
    await consumer.close();
    console.log(`close() gave up on a blocked handler in ${Date.now() - started} ms`);
    expect(handlerDone).toBe(false); // close() did not wait for it
    gate.resolve(); // finishes after the transport gave up on it
    await waitFor('late finish', () => consumer.server.stats().processed === 1);
    await sleep(50); // an acknowledgement goes out within a turn or two of the event loop
    expect(acks).toBe(0);
    expect(await pendingEntries(suite.redis, stream, 'g')).toMatchObject([{ id }]);
  });

  it('renews the lease of held entries: a slow handler is not taken over by another consumer', async () => {
    const stream = `${suite.prefix}:s`;
    const gate = new Deferred();
    const slowSeen: string[] = [];
    const slow = await suite.start(
      { streams: [stream], group: 'g', consumer: 'slow', claimIdleMs: 300, claimIntervalMs: 50 },
      ['t.e'],
      async (_d, ctx) => {
        slowSeen.push(ctx.getId());
        await gate.promise;
      },
    );
    const id = await xadd(suite.redis, stream, 't.e', {});
    const added = Date.now();
    await waitFor('slow running', () => slow.server.stats().running === 1);

    const otherSeen: string[] = [];
    await suite.start(
      { streams: [stream], group: 'g', consumer: 'other', claimIdleMs: 300, claimIntervalMs: 50 },
      ['t.e'],
      (_d, ctx) => {
        otherSeen.push(ctx.getId());
      },
    );
    // Several claim periods pass (well beyond claimIdleMs) while the handler runs.
    await sleep(1_000);
    expect(otherSeen).toEqual([]);
    const [entry] = await pendingEntries(suite.redis, stream, 'g');
    const held = Date.now() - added;
    console.log(`held ${held} ms, idle ${entry.idleMs} ms (claimIdleMs 300)`);
    expect(entry).toMatchObject({ id, consumer: 'slow', deliveries: 1 });
    // Renewed: idle for less than it has been held (a busy machine may stretch both).
    expect(entry.idleMs).toBeLessThan(held);

    gate.resolve();
    await waitFor(
      'acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    expect(slowSeen).toEqual([id]);
  });

  it('runs exactly one read loop through reconnects', async () => {
    const stream = `${suite.prefix}:s`;
    const seen: number[] = [];
    const name = `loop-${suite.prefix}`;
    const consumer = await suite.start(
      { streams: [stream], group: 'g', consumer: name },
      ['t.e'],
      (data) => {
        seen.push(data.n);
      },
    );
    const reads = watchConcurrentReads(consumer.server);
    for (let round = 0; round < 3; round++) {
      await killClients(suite.redis, `streams:g:${name}:reader`);
      await xadd(suite.redis, stream, 't.e', { n: round });
      await waitFor(`event ${round}`, () => seen.includes(round));
    }
    expect(reads.max()).toBe(1);
    expect(reads.total()).toBeGreaterThan(3);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('rejects bad options early', () => {
    const base = { connection: testRedisUrl(), streams: ['x'], group: 'g' };
    expect(() => new RedisStreamsServer({ ...base, group: '' })).toThrow(/group/);
    expect(() => new RedisStreamsServer({ ...base, concurrency: 0 })).toThrow(/concurrency/);
    expect(
      () => new RedisStreamsServer({ ...base, claimIdleMs: 100, claimIntervalMs: 100 }),
    ).toThrow(/claimIdleMs/);
    expect(() => new RedisStreamsServer({ ...base, connection: { keyPrefix: 'p:' } })).toThrow(
      /keyPrefix/,
    );
  });
});

async function groupEntriesRead(redis: Redis, stream: string): Promise<unknown> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  const fields = groups[0];
  return fields[fields.indexOf('entries-read') + 1];
}

/** CLIENT KILL the connections named `name` (the transport names them streams:<group>:<consumer>:<role>). */
async function killClients(redis: Redis, name: string): Promise<void> {
  const list = (await redis.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /\bid=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => !!id);
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) await redis.client('KILL', 'ID', id);
}
