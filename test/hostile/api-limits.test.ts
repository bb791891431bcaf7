/**
 * Hostile input against two api processes sharing Redis, as an attacker would send it: the
 * login lock-out (issue 11, item 3) and filling Redis through one session's writes (item 1, the
 * api's part). Prints what it measured; asserts on status counts and bytes, not on time.
 */
import { gzipSync } from 'node:zlib';
import { AppProcess } from '../support/app-process';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

jest.setTimeout(180_000);

const X = '203.0.113.50';
const Y = '198.51.100.60';

function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe('hostile clients against two api processes', () => {
  const prefix = uniquePrefix('hostile-api');
  const redis = newRedisClient();
  let apis: AppProcess[] = [];
  const url = (i: number, path: string) => `http://127.0.0.1:${apis[i % apis.length].port}${path}`;

  beforeAll(async () => {
    const env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: prefix,
      // The production defaults of the limits, behind a proxy on loopback.
      LOGIN_RATE_LIMIT: '10',
      SESSION_WRITE_RATE_LIMIT: '60',
      TRUST_PROXY: 'loopback',
      SESSION_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'error',
    };
    apis = await Promise.all([
      AppProcess.start('api', 'hostile-api-a', env),
      AppProcess.start('api', 'hostile-api-b', env),
    ]);
  });
  afterAll(async () => {
    await Promise.all(apis.map((api) => api.stop()));
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  const login = (i: number, userId: string, password: string, from: string) =>
    fetch(url(i, '/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ userId, password }),
    });

  it('100 wrong passwords for alice from X, through both instances, then alice logs in from Y', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await login(i, 'alice', `guess-${i}`, X)).status);
    const fromY = await login(1, 'alice', 'alice-demo-pass', Y);
    console.log(
      `login lock-out: 100 guesses from X → ${JSON.stringify(tally(statuses))}; alice from Y → ${fromY.status}`,
    );
    expect(tally(statuses)).toEqual({ 401: 10, 429: 90 });
    expect(fromY.status).toBe(201);
  });

  it('1,000 hostile patches from one session: the limit holds across instances, Redis grows < 1 MB', async () => {
    const session = (await (await login(0, 'bob', 'bob-demo-pass', Y)).json()) as { token: string };
    const nullKeys = (n: number) =>
      Buffer.from(
        JSON.stringify({
          data: Object.fromEntries(
            Array.from({ length: n }, (_, i) => [`k${i}-${'p'.repeat(24)}`, null]),
          ),
        }),
      );
    const bodies: { kind: string; body: Buffer; encoding?: string }[] = [
      {
        kind: 'gzip bomb',
        body: gzipSync(Buffer.from(`{"data":{"a":"${'x'.repeat(100_000)}"}}`)),
        encoding: 'gzip',
      },
      { kind: 'oversize', body: nullKeys(3000) },
      { kind: 'null keys', body: nullKeys(40) },
    ];
    const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const before = await memory();
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const { body, encoding } = bodies[i % bodies.length];
      const response = await fetch(url(i, '/sessions/current'), {
        method: 'PATCH',
        headers: {
          'x-session-id': session.token,
          'content-type': 'application/json',
          ...(encoding ? { 'content-encoding': encoding } : {}),
        },
        body,
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    const grown = (await memory()) - before;
    const counts = tally(statuses);
    console.log(
      `write flood: ${JSON.stringify(counts)}; used_memory +${grown} bytes; bodies ` +
        bodies.map((b) => `${b.kind} ${b.body.length} B`).join(', '),
    );
    expect(counts[200] ?? 0).toBeLessThanOrEqual(60);
    expect(Object.keys(counts).sort()).toEqual(
      Object.keys(counts)
        .filter((s) => ['200', '400', '413', '415', '429'].includes(s))
        .sort(),
    );
    expect(grown).toBeLessThan(1024 * 1024);
  });
});
