import { RpcException } from '@nestjs/microservices';
import { readEntries, RedisStreamsContext } from '@app/streams';
import {
  Deferred,
  pendingEntries,
  waitFor,
  xadd,
  type RunningConsumer,
  streamsTestContext,
} from './streams-fixture';

interface Seen {
  data: unknown;
  stream: string;
  id: string;
  deliveryCount: number;
  partition: number;
  group: string;
  consumer: string;
  pattern: string;
}

function seen(data: unknown, ctx: RedisStreamsContext): Seen {
  return {
    data,
    stream: ctx.getStream(),
    id: ctx.getId(),
    deliveryCount: ctx.getDeliveryCount(),
    partition: ctx.getPartition(),
    group: ctx.getGroup(),
    consumer: ctx.getConsumer(),
    pattern: ctx.getPattern(),
  };
}

describe('RedisStreamsServer delivery (Nest microservice)', () => {
  const suite = streamsTestContext('streams-delivery');
  let consumer: RunningConsumer | undefined;

  it('hands data and context to @EventPattern handlers, then acknowledges', async () => {
    const streams = [`${suite.prefix}:s0`, `${suite.prefix}:s1`, `${suite.prefix}:s2`];
    const received: Seen[] = [];
    consumer = await suite.start(
      { streams, group: 'g', consumer: 'worker-a' },
      ['session.created', 'session.revoked'],
      (data, ctx) => {
        received.push(seen(data, ctx));
      },
    );
    const id1 = await xadd(suite.redis, streams[2], 'session.created', { sessionId: 's-1', n: 1 });
    const id2 = await xadd(suite.redis, streams[0], 'session.revoked', {
      sessionId: 's-2',
      reason: 'x',
    });

    await waitFor('two events', () => received.length === 2);
    const byEntry = new Map(received.map((r) => [`${r.stream} ${r.id}`, r]));
    expect(byEntry.get(`${streams[2]} ${id1}`)).toEqual({
      data: { sessionId: 's-1', n: 1 },
      stream: streams[2],
      id: id1,
      deliveryCount: 1,
      partition: 2,
      group: 'g',
      consumer: 'worker-a',
      pattern: 'session.created',
    });
    expect(byEntry.get(`${streams[0]} ${id2}`)).toMatchObject({
      id: id2,
      partition: 0,
      pattern: 'session.revoked',
    });

    await waitFor('acks', async () => (await suite.redis.xpending(streams[2], 'g'))[0] === 0);
    expect((await suite.redis.xpending(streams[0], 'g'))[0]).toBe(0);
    expect(consumer.server.stats()).toMatchObject({ processed: 2, failed: 0, inFlight: 0 });
  });

  it('creates missing streams and groups (MKSTREAM) and tolerates existing groups', async () => {
    const streams = [`${suite.prefix}:new`, `${suite.prefix}:existing`];
    await suite.redis.xgroup('CREATE', streams[1], 'g', '0', 'MKSTREAM');
    consumer = await suite.start({ streams, group: 'g' }, ['x'], () => undefined);
    expect(await suite.redis.exists(streams[0])).toBe(1);
    const groups = (await suite.redis.xinfo('GROUPS', streams[0])) as unknown[][];
    expect(groups).toHaveLength(1);
    expect(consumer.server.getStreams()).toEqual(streams);
  });

  it('accepts streams given as an (async) function', async () => {
    const streams = [`${suite.prefix}:fa`, `${suite.prefix}:fb`];
    const received: Seen[] = [];
    consumer = await suite.start(
      { streams: async () => streams, group: 'g' },
      ['t.ok'],
      (data, ctx) => {
        received.push(seen(data, ctx));
      },
    );
    await xadd(suite.redis, streams[1], 't.ok', { a: 1 });
    await waitFor('event', () => received.length === 1);
    expect(received[0].partition).toBe(1);
  });

  it('acknowledges only after the handler settled (Promise and Observable results)', async () => {
    const stream = `${suite.prefix}:s`;
    const gate = new Deferred();
    const started: string[] = [];
    consumer = await suite.start({ streams: [stream], group: 'g' }, ['t.slow'], async (data) => {
      started.push(data.k);
      await gate.promise;
    });
    const id = await xadd(suite.redis, stream, 't.slow', { k: 'a' });
    await waitFor('handler start', () => started.length === 1);
    // Still running: pending, not acknowledged.
    expect((await pendingEntries(suite.redis, stream, 'g')).map((p) => p.id)).toEqual([id]);
    gate.resolve();
    await waitFor('ack', async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0);
  });

  it('a throwing handler leaves the entry pending and it is retried until it succeeds', async () => {
    const stream = `${suite.prefix}:s`;
    const attempts: Seen[] = [];
    let pendingWhileFailing: string[] = [];
    consumer = await suite.start(
      { streams: [stream], group: 'g', maxDeliveries: 5, retryDelayMs: 50 },
      ['t.flaky'],
      async (data, ctx) => {
        attempts.push(seen(data, ctx));
        if (attempts.length < 3) {
          pendingWhileFailing = (await pendingEntries(suite.redis, stream, 'g')).map((p) => p.id);
          throw new RpcException(`transient ${attempts.length}`);
        }
      },
    );
    const id = await xadd(suite.redis, stream, 't.flaky', { v: 1 });
    await waitFor('three attempts', () => attempts.length === 3);
    await waitFor('ack', async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0);
    expect(pendingWhileFailing).toEqual([id]);
    expect(attempts.map((a) => [a.id, a.deliveryCount])).toEqual([
      [id, 1],
      [id, 2],
      [id, 3],
    ]);
    expect(consumer.server.stats()).toMatchObject({ processed: 1, failed: 2, deadLettered: 0 });
    expect(await suite.redis.exists(`${stream}:dead`)).toBe(0);
  });

  it('caps the dead-letter stream near deadLetterMaxLen (MAXLEN ~), whatever the flood', async () => {
    const stream = `${suite.prefix}:s`;
    consumer = await suite.start(
      { streams: [stream], group: 'g', deadLetterMaxLen: 10 },
      ['t.never'],
      () => undefined,
    );
    // Malformed entries (no pattern, no data) go straight to the dead-letter stream.
    const flood = 500;
    for (let i = 0; i < flood; i++) await suite.redis.xadd(stream, '*', 'junk', String(i));
    await waitFor('dead-lettered', () => consumer!.server.stats().deadLettered === flood, 15_000);
    const length = await suite.redis.xlen(`${stream}:dead`);
    console.log(`${flood} poison entries with deadLetterMaxLen 10: dead-letter XLEN ${length}`);
    // Approximate trimming removes whole stream nodes (100 entries by default).
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThanOrEqual(110);
  });

  it('dead-letters after maxDeliveries failures, with the original id and error, while others flow', async () => {
    const stream = `${suite.prefix}:s`;
    const ok: number[] = [];
    let poisonAttempts = 0;
    consumer = await suite.start(
      { streams: [stream], group: 'g', maxDeliveries: 3, retryDelayMs: 20, concurrency: 4 },
      ['t.poison', 't.ok'],
      (data, ctx) => {
        if (ctx.getPattern() === 't.poison') {
          poisonAttempts++;
          throw new RpcException(`cannot apply ${data.what}`);
        }
        ok.push(data.n);
      },
    );
    const poisonId = await xadd(suite.redis, stream, 't.poison', { what: 'poison' });
    for (let n = 0; n < 20; n++) await xadd(suite.redis, stream, 't.ok', { n });

    await waitFor('dead letter', async () => (await suite.redis.xlen(`${stream}:dead`)) === 1);
    await waitFor('others', () => ok.length === 20);
    expect(poisonAttempts).toBe(3);
    const [dead] = await readEntries(suite.redis, `${stream}:dead`);
    expect(dead.pattern).toBe('t.poison');
    expect(dead.data).toEqual({ what: 'poison' });
    expect(dead.fields).toMatchObject({
      originalStream: stream,
      originalId: poisonId,
      error: 'cannot apply poison',
      deliveryCount: '3',
      group: 'g',
      consumer: 'c1',
    });
    await waitFor(
      'all acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    expect(consumer.server.stats()).toMatchObject({ processed: 20, failed: 3, deadLettered: 1 });
  });

  it('records a plain Error as Nest reports it, and honours a deadLetterStream function', async () => {
    const stream = `${suite.prefix}:s`;
    consumer = await suite.start(
      {
        streams: [stream],
        group: 'g',
        maxDeliveries: 1,
        deadLetterStream: (s) => `${s}:graveyard`,
      },
      ['t.err'],
      () => {
        throw new Error('hidden by Nest');
      },
    );
    const id = await xadd(suite.redis, stream, 't.err', {});
    await waitFor('dead letter', async () => (await suite.redis.xlen(`${stream}:graveyard`)) === 1);
    const [dead] = await readEntries(suite.redis, `${stream}:graveyard`);
    // Nest's BaseRpcExceptionFilter replaces non-RpcException errors by a generic message.
    expect(dead.fields).toMatchObject({ originalId: id, error: 'Internal server error' });
  });

  it('sends malformed entries straight to the dead-letter stream', async () => {
    const stream = `${suite.prefix}:s`;
    const received: unknown[] = [];
    consumer = await suite.start({ streams: [stream], group: 'g' }, ['t.ok'], (data) => {
      received.push(data);
    });
    const noPattern = (await suite.redis.xadd(stream, '*', 'data', '{}')) as string;
    const notJson = (await suite.redis.xadd(
      stream,
      '*',
      'pattern',
      't.ok',
      'data',
      '{oops',
    )) as string;
    const noData = (await suite.redis.xadd(stream, '*', 'pattern', 't.ok', 'other', 'x')) as string;
    await xadd(suite.redis, stream, 't.ok', { fine: true });

    await waitFor('dead letters', async () => (await suite.redis.xlen(`${stream}:dead`)) === 3);
    await waitFor('good one', () => received.length === 1);
    const dead = await readEntries(suite.redis, `${stream}:dead`);
    const byOriginal = new Map(dead.map((d) => [d.fields.originalId, d.fields]));
    expect(byOriginal.get(noPattern)?.error).toMatch(/no "pattern" field/);
    expect(byOriginal.get(notJson)?.error).toMatch(/"data" is not JSON/);
    expect(byOriginal.get(notJson)?.data).toBe('{oops');
    expect(byOriginal.get(noData)?.error).toMatch(/no "data" field/);
    expect(JSON.parse(byOriginal.get(noData)!.fields)).toEqual({ pattern: 't.ok', other: 'x' });
    expect(received).toEqual([{ fine: true }]);
    await waitFor(
      'all acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
  });

  it('acknowledges entries whose pattern has no handler, without failing', async () => {
    const stream = `${suite.prefix}:s`;
    const received: unknown[] = [];
    consumer = await suite.start({ streams: [stream], group: 'g' }, ['t.mine'], (data) => {
      received.push(data);
    });
    await xadd(suite.redis, stream, 'someone.elses', { a: 1 });
    await xadd(suite.redis, stream, 't.mine', { b: 2 });
    await waitFor('handled', () => received.length === 1);
    await waitFor(
      'all acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    expect(consumer.server.stats()).toMatchObject({
      ignored: 1,
      processed: 1,
      failed: 0,
      deadLettered: 0,
    });
    expect(await suite.redis.exists(`${stream}:dead`)).toBe(0);
  });

  it('dead-letters an entry already delivered more than maxDeliveries times, without running it', async () => {
    const stream = `${suite.prefix}:s`;
    await suite.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    const id = await xadd(suite.redis, stream, 't.crashy', { boom: true });
    // Three earlier consumers read it and died (each delivery counts).
    for (const dead of ['d1', 'd2', 'd3']) {
      await suite.redis.xreadgroup(
        'GROUP',
        'g',
        dead,
        'STREAMS',
        stream,
        dead === 'd1' ? '>' : '0',
      );
      if (dead !== 'd3') await suite.redis.xclaim(stream, 'g', dead === 'd1' ? 'd2' : 'd3', 0, id);
    }
    let ran = 0;
    consumer = await suite.start(
      { streams: [stream], group: 'g', maxDeliveries: 2, claimIdleMs: 200, claimIntervalMs: 50 },
      ['t.crashy'],
      () => {
        ran++;
      },
    );
    await waitFor('dead letter', async () => (await suite.redis.xlen(`${stream}:dead`)) === 1);
    const [dead] = await readEntries(suite.redis, `${stream}:dead`);
    expect(dead.fields.originalId).toBe(id);
    expect(dead.fields.error).toMatch(/Delivered \d+ times \(maxDeliveries 2\)/);
    expect(ran).toBe(0);
    await waitFor(
      'acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
  });
});
