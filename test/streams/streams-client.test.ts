import { createServer, type Server as NetServer } from 'node:net';
import Redis from 'ioredis';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { readEntries, RedisStreamsClient, RedisStreamsStatus } from '@app/streams';
import { RedisServerProcess } from '../support/redis-server-process';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';
import { startConsumer, waitFor } from './streams-fixture';

/** A port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

describe('RedisStreamsClient', () => {
  let redis: Redis;
  let prefix: string;
  const clients: RedisStreamsClient[] = [];

  function client(
    options: ConstructorParameters<typeof RedisStreamsClient>[0],
  ): RedisStreamsClient {
    const c = new RedisStreamsClient({ connection: testRedisUrl(), ...options });
    clients.push(c);
    return c;
  }

  beforeAll(() => {
    redis = newRedisClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix('streams-client');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await deleteKeysWithPrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('emit() XADDs pattern + JSON data and completes with the entry id once acknowledged', async () => {
    const stream = `${prefix}:events`;
    const producer = client({ stream });
    const values = await lastValueFrom(
      producer.emit('session.created', { sessionId: 's1', n: 1 }).pipe(toArray()),
    );
    expect(values).toHaveLength(1);
    const [id] = values as string[];
    expect(id).toMatch(/^\d+-\d+$/);
    const entries = await readEntries(redis, stream);
    expect(entries).toEqual([
      {
        id,
        pattern: 'session.created',
        data: { sessionId: 's1', n: 1 },
        fields: { pattern: 'session.created', data: '{"sessionId":"s1","n":1}' },
      },
    ]);
  });

  it('routes with streamFor(pattern, data)', async () => {
    const streams = [`${prefix}:p0`, `${prefix}:p1`];
    const producer = client({
      streamFor: (_pattern, data) => streams[(data as { user: number }).user % 2],
    });
    await lastValueFrom(producer.emit('e', { user: 1 }));
    await lastValueFrom(producer.emit('e', { user: 2 }));
    await lastValueFrom(producer.emit('e', { user: 3 }));
    expect((await readEntries(redis, streams[0])).map((e) => e.data)).toEqual([{ user: 2 }]);
    expect((await readEntries(redis, streams[1])).map((e) => e.data)).toEqual([
      { user: 1 },
      { user: 3 },
    ]);
  });

  it('trims approximately with maxLen and minId', async () => {
    const capped = `${prefix}:capped`;
    const producer = client({ stream: capped, maxLen: 10 });
    for (let i = 0; i < 500; i++) await lastValueFrom(producer.emit('e', { i }));
    // "~" trims whole macro nodes (100 entries by default): well below 500, at least 10.
    const len = await redis.xlen(capped);
    expect(len).toBeGreaterThanOrEqual(10);
    expect(len).toBeLessThan(500);

    const aged = `${prefix}:aged`;
    const byAge = client({ stream: aged, minId: () => `${Date.now() + 60_000}-0` });
    for (let i = 0; i < 300; i++) await lastValueFrom(byAge.emit('e', { i }));
    expect(await redis.xlen(aged)).toBeLessThan(300);
  });

  it('the emitted events reach a RedisStreamsServer handler', async () => {
    const stream = `${prefix}:s`;
    const got: unknown[] = [];
    const consumer = await startConsumer(
      { streams: [stream], group: 'g' },
      ['user.created'],
      (d) => {
        got.push(d);
      },
    );
    try {
      const producer = client({ stream });
      await lastValueFrom(producer.emit('user.created', { id: 7 }));
      await waitFor('delivery', () => got.length === 1);
      expect(got).toEqual([{ id: 7 }]);
    } finally {
      await consumer.close();
    }
  });

  it('refuses send() (request-response) with a clear error, without connecting', async () => {
    const producer = client({ stream: `${prefix}:s`, connection: 'redis://127.0.0.1:1' });
    await expect(firstValueFrom(producer.send('cmd', {}))).rejects.toThrow(/use emit/i);
    expect(() => producer.unwrap()).toThrow(/connect/);
  });

  it('errors (does not hang) when Redis is unreachable', async () => {
    const port = await closedPort();
    const producer = client({
      stream: `${prefix}:s`,
      connection: `redis://127.0.0.1:${port}`,
      timeoutMs: 1_000,
    });
    producer.on('error', () => undefined);
    const started = Date.now();
    await expect(lastValueFrom(producer.emit('e', { a: 1 }))).rejects.toThrow();
    // A second emit while reconnecting in the background: bounded by timeoutMs too.
    await expect(lastValueFrom(producer.emit('e', { a: 2 }))).rejects.toThrow();
    // Not hanging is what is asserted (the test's timeout); the time is printed, not bounded.
    console.log(`two emits to a closed port failed in ${Date.now() - started} ms (timeoutMs 1000)`);
  });

  it('errors within timeoutMs when Redis accepts the connection but never answers', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const blackHole: NetServer = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blackHole.address() as { port: number };
      const producer = client({
        stream: `${prefix}:s`,
        connection: `redis://127.0.0.1:${port}`,
        timeoutMs: 500,
        retryAttempts: 0,
      });
      producer.on('error', () => undefined);
      const started = Date.now();
      await expect(lastValueFrom(producer.emit('e', {}))).rejects.toThrow();
      console.log(
        `an emit to a silent server failed in ${Date.now() - started} ms (timeoutMs 500)`,
      );
      await producer.close();
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    }
  });

  it('reports status events and recovers after a Redis restart', async () => {
    const server = await RedisServerProcess.start();
    try {
      const stream = `${prefix}:s`;
      const producer = client({ stream, connection: server.url, retryDelay: 50 });
      const statuses: string[] = [];
      const roles: string[] = [];
      producer.status.subscribe((s) => statuses.push(s));
      producer.on('ready', (role) => roles.push(role));
      producer.on('error', () => undefined);

      await lastValueFrom(producer.emit('e', { n: 1 }));
      expect(statuses).toEqual([RedisStreamsStatus.CONNECTED]);
      expect(roles).toEqual(['producer']);

      await server.restart();
      await waitFor('reconnected', () => statuses.length >= 3);
      expect(statuses).toEqual([
        RedisStreamsStatus.CONNECTED,
        RedisStreamsStatus.RECONNECTING,
        RedisStreamsStatus.CONNECTED,
      ]);
      await lastValueFrom(producer.emit('e', { n: 2 }));
      const direct = new Redis(server.url);
      try {
        expect((await readEntries(direct, stream)).map((e) => e.data)).toEqual([{ n: 2 }]);
      } finally {
        await direct.quit();
      }
      await producer.close();
      expect(statuses).toHaveLength(3); // no status after an explicit close
    } finally {
      await server.stop();
    }
  });

  it('validates options', () => {
    expect(() => new RedisStreamsClient({})).toThrow(/stream/);
    expect(() => new RedisStreamsClient({ stream: 'a', streamFor: () => 'b' })).toThrow(/either/);
    expect(() => new RedisStreamsClient({ stream: 'a', maxLen: 1, minId: '0-1' })).toThrow(
      /maxLen or minId/,
    );
  });
});
