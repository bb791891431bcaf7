import Redis from 'ioredis';
import { RedisStreamsStatus, type RedisStreamsConnectionRole } from '@app/streams';
import { RedisServerProcess } from '../support/redis-server-process';
import { testRedisUrl } from '../support/test-redis';
import {
  Deferred,
  pendingEntries,
  startConsumer,
  waitFor,
  watchConcurrentReads,
  xadd,
  streamsTestContext,
} from './streams-fixture';

describe('RedisStreamsServer status, introspection and options', () => {
  const suite = streamsTestContext('streams-intro');

  it('reports status events, survives a Redis restart that lost the group, and stays single-loop', async () => {
    const server = await RedisServerProcess.start();
    try {
      const stream = `${suite.prefix}:s`;
      const seen: number[] = [];
      const consumer = await startConsumer(
        { connection: server.url, streams: [stream], group: 'g', retryDelay: 50 },
        ['t.e'],
        (data) => {
          seen.push(data.n);
        },
      );
      suite.track(consumer);
      const reads = watchConcurrentReads(consumer.server);
      const statuses: string[] = [];
      consumer.server.status.subscribe((s) => statuses.push(s));
      const readyRoles: RedisStreamsConnectionRole[] = [];
      consumer.server.on('ready', (role) => readyRoles.push(role));
      expect(statuses).toEqual([RedisStreamsStatus.CONNECTED]);

      const direct = new Redis(server.url, { retryStrategy: () => 50 });
      direct.on('error', () => undefined);
      try {
        await xadd(direct, stream, 't.e', { n: 1 });
        await waitFor('first event', () => seen.includes(1));

        await server.restart(); // no persistence: stream and group are gone
        await waitFor(
          'reconnected',
          () => statuses.at(-1) === RedisStreamsStatus.CONNECTED && statuses.length >= 3,
        );
        expect(statuses.slice(0, 3)).toEqual([
          RedisStreamsStatus.CONNECTED,
          RedisStreamsStatus.RECONNECTING,
          RedisStreamsStatus.CONNECTED,
        ]);
        // The group is re-created (NOGROUP handling) and consumption goes on.
        await waitFor('group re-created', async () => (await direct.exists(stream)) === 1);
        await xadd(direct, stream, 't.e', { n: 2 });
        await waitFor('event after restart', () => seen.includes(2), 15_000);
        expect(seen).toEqual([1, 2]);
        expect([...new Set(readyRoles)].sort()).toEqual(['commands', 'reader']);
        expect(reads.max()).toBe(1);
      } finally {
        await direct.quit();
      }
      await consumer.close();
      const after = statuses.length;
      expect(statuses[after - 1]).toBe(RedisStreamsStatus.CONNECTED); // close() reports nothing
    } finally {
      await server.stop();
    }
  });

  it('lag() gives pending and undelivered counts per stream; stats() counts', async () => {
    const streams = [`${suite.prefix}:a`, `${suite.prefix}:b`];
    const gate = new Deferred();
    const consumer = await startConsumer(
      { streams, group: 'g', concurrency: 2, batchSize: 1 },
      ['t.e'],
      () => gate.promise,
    );
    suite.track(consumer);
    for (let i = 0; i < 5; i++) await xadd(suite.redis, streams[0], 't.e', { i });
    await waitFor('saturated', () => consumer.server.stats().running === 2);

    const lag = await consumer.server.lag();
    expect(lag.map((l) => l.stream)).toEqual(streams);
    expect(lag[0].partition).toBe(0);
    expect(lag[0].pending).toBe(consumer.server.stats().inFlight);
    expect(lag[0].pending + (lag[0].lag ?? 0)).toBe(5);
    expect(lag[0].lag).toBeGreaterThan(0);
    expect(lag[1]).toMatchObject({ stream: streams[1], partition: 1, pending: 0, lag: 0 });

    gate.resolve();
    await waitFor('drained', async () => {
      const [a] = await consumer.server.lag();
      return a.pending === 0 && a.lag === 0;
    });
    expect(consumer.server.stats()).toMatchObject({ processed: 5, inFlight: 0, running: 0 });
  });

  it('detects XACKDEL once and falls back to XACK when absent (deleteAcked)', async () => {
    const stream = `${suite.prefix}:s`;
    const done: string[] = [];
    const consumer = await startConsumer(
      { streams: [stream], group: 'g', deleteAcked: true },
      ['t.e'],
      (_d, ctx) => {
        done.push(ctx.getId());
      },
    );
    suite.track(consumer);
    const info = await suite.redis.command('INFO', 'XACKDEL');
    const serverHasXackdel = Array.isArray(info[0]);
    expect(consumer.server.getCapabilities()).toEqual({ xackdel: serverHasXackdel });

    await xadd(suite.redis, stream, 't.e', {});
    await waitFor('handled', () => done.length === 1);
    await waitFor(
      'acked',
      async () => (await pendingEntries(suite.redis, stream, 'g')).length === 0,
    );
    // XACKDEL ... ACKED deletes the entry once every group acknowledged it; XACK keeps it.
    expect(await suite.redis.xlen(stream)).toBe(serverHasXackdel ? 0 : 1);
  });

  it('uses a connection factory, one new client per role', async () => {
    const stream = `${suite.prefix}:s`;
    const roles: string[] = [];
    const done: unknown[] = [];
    const consumer = await startConsumer(
      {
        streams: [stream],
        group: 'g',
        connection: (role) => {
          roles.push(role);
          return new Redis(testRedisUrl(), {
            lazyConnect: true,
            connectionName: `factory-${role}`,
          });
        },
      },
      ['t.e'],
      (d) => {
        done.push(d);
      },
    );
    suite.track(consumer);
    expect(roles.sort()).toEqual(['commands', 'reader']);
    const [reader, commands] = consumer.server.unwrap<[Redis, Redis]>();
    expect(reader).not.toBe(commands);
    await xadd(suite.redis, stream, 't.e', { ok: 1 });
    await waitFor('handled', () => done.length === 1);
  });

  it('dead-letters an entry whose orderingKey throws, and keeps going', async () => {
    const stream = `${suite.prefix}:s`;
    const done: unknown[] = [];
    const consumer = await startConsumer(
      {
        streams: [stream],
        group: 'g',
        orderingKey: (data) => {
          const key = (data as { key?: string }).key;
          if (!key) throw new Error('no key');
          return key;
        },
      },
      ['t.e'],
      (d) => {
        done.push(d);
      },
    );
    suite.track(consumer);
    const bad = await xadd(suite.redis, stream, 't.e', { nokey: true });
    await xadd(suite.redis, stream, 't.e', { key: 'k' });
    await waitFor('good one', () => done.length === 1);
    await waitFor('dead letter', async () => (await suite.redis.xlen(`${stream}:dead`)) === 1);
    const [[, fields]] = await suite.redis.xrange(`${stream}:dead`, '-', '+');
    expect(fields[fields.indexOf('originalId') + 1]).toBe(bad);
    expect(fields[fields.indexOf('error') + 1]).toMatch(/orderingKey failed: no key/);
  });

  it('unwrap() before listen() explains what to do; listen() fails when Redis is unreachable', async () => {
    const { RedisStreamsServer } = await import('@app/streams');
    const server = new RedisStreamsServer({
      connection: 'redis://127.0.0.1:1',
      streams: [`${suite.prefix}:s`],
      group: 'g',
      retryAttempts: 0,
    });
    expect(() => server.unwrap()).toThrow(/listen/);
    const err = await new Promise<unknown>((resolve) => server.listen(resolve));
    expect(err).toBeInstanceOf(Error);
    await server.close();
  });
});
