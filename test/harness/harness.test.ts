import Redis from 'ioredis';
import { RedisServerProcess } from '../support/redis-server-process';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

// A client that fails fast instead of queueing, to observe a dead server.
function fastFailClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    disconnectTimeout: 0, // no 2 s linger after disconnecting a refused socket
  });
  client.on('error', () => undefined);
  return client;
}

async function pingOnce(url: string): Promise<string> {
  const client = fastFailClient(url);
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

describe('provided Redis', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = newRedisClient();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('answers PING on TEST_REDIS_URL', async () => {
    expect(testRedisUrl()).toMatch(/^rediss?:\/\//);
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('uniquePrefix gives 1000 distinct key-safe prefixes', () => {
    const prefixes = Array.from({ length: 1000 }, () => uniquePrefix('harness'));
    expect(new Set(prefixes).size).toBe(1000);
    for (const p of prefixes) expect(p).toMatch(/^t-harness-[0-9a-f]{8}$/);
    expect(() => uniquePrefix('a:b')).toThrow(/label must match/);
  });

  it('deleteKeysWithPrefix deletes only keys under that prefix', async () => {
    const doomed = uniquePrefix('doomed');
    const kept = uniquePrefix('kept');
    const lookalike = `${doomed}x`; // shares the string start but is a different prefix
    const many = Array.from({ length: 1200 }, (_, i) => [`${doomed}:k${i}`, 'v']).flat();
    await redis.mset(...many);
    await redis.set(`${kept}:a`, '1');
    await redis.hset(`${kept}:b`, 'f', '1');
    await redis.set(`${lookalike}:a`, '1');

    await expect(deleteKeysWithPrefix(redis, doomed)).resolves.toBe(1200);

    expect(await redis.exists(`${doomed}:k0`, `${doomed}:k1199`)).toBe(0);
    expect(await redis.exists(`${kept}:a`, `${kept}:b`, `${lookalike}:a`)).toBe(3);
    await expect(deleteKeysWithPrefix(redis, kept)).resolves.toBe(2);
    await expect(deleteKeysWithPrefix(redis, lookalike)).resolves.toBe(1);
  });
});

describe('RedisServerProcess', () => {
  let server: RedisServerProcess | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('survives SIGKILL + restart on the same port, without persisting data', async () => {
    server = await RedisServerProcess.start();
    const { port, url } = server;
    expect(url).toBe(`redis://127.0.0.1:${port}`);
    const client = fastFailClient(url);
    await client.connect();
    await client.set('persisted?', 'yes');
    client.disconnect();

    await server.kill();
    await expect(pingOnce(url)).rejects.toThrow();

    await server.restart();
    expect(server.port).toBe(port);
    await expect(pingOnce(url)).resolves.toBe('PONG');
    const after = fastFailClient(url);
    await after.connect();
    await expect(after.get('persisted?')).resolves.toBeNull();
    after.disconnect();

    await server.stop();
    await expect(pingOnce(url)).rejects.toThrow();
  });

  it('allows DEBUG SLEEP and applies extra args', async () => {
    server = await RedisServerProcess.start({ args: ['--maxmemory', '1mb'] });
    const client = fastFailClient(server.url);
    await client.connect();
    try {
      await expect(client.config('GET', 'maxmemory')).resolves.toEqual(['maxmemory', '1048576']);
      const started = Date.now();
      await expect(client.call('DEBUG', 'SLEEP', '0.3')).resolves.toBe('OK');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      client.disconnect();
    }
  });

  it('fails start with the server output when redis-server rejects its config', async () => {
    await expect(RedisServerProcess.start({ args: ['--no-such-directive', 'x'] })).rejects.toThrow(
      /failed to start[\s\S]*no-such-directive/,
    );
  });
});
