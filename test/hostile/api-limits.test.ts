/**
 * Hostile input against real api (and worker) processes on a private Redis, as an attacker would
 * send it: the login lock-out (issue 11, item 3), filling Redis through one session's writes
 * (item 1), probing with wrong secrets (item 4) and an instance with another partition count
 * (item 5). Prints what it measured; asserts on status counts, bytes and Redis time ratios, never
 * on wall-clock time. A private Redis, so `used_memory` and `INFO commandstats` see only this.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { AppProcess } from '../support/app-process';
import { RedisServerProcess } from '../support/redis-server-process';
import { uniquePrefix } from '../support/test-redis';

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
  let server: RedisServerProcess;
  let redis: Redis;
  let apis: AppProcess[] = [];
  let env: Record<string, string>;
  const url = (i: number, path: string) => `http://127.0.0.1:${apis[i % apis.length].port}${path}`;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    redis = new Redis(server.url);
    env = {
      REDIS_URL: server.url,
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
    await redis.quit();
    await server.stop();
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

  it('a wrong secret costs Redis no more than an unknown id, at the largest allowed session', async () => {
    // The admin's session padded to the data limits (its roles + 63 keys = 64, ~3.6 KiB).
    const session = (await (await login(0, 'admin', 'admin-demo-pass', Y)).json()) as {
      sessionId: string;
      token: string;
    };
    const data = Object.fromEntries(
      Array.from({ length: 63 }, (_, i) => [`pad${String(i).padStart(2, '0')}`, 'v'.repeat(50)]),
    );
    const padded = await fetch(url(0, '/sessions/current'), {
      method: 'PATCH',
      headers: { 'x-session-id': session.token, 'content-type': 'application/json' },
      body: JSON.stringify({ data }),
    });
    expect(padded.status).toBe(200);

    // Probes go to instance 1, which never validated the admin's token: every one reaches Redis.
    const secret = session.token.slice(session.token.indexOf('.') + 1);
    const wrongSecret = `${session.sessionId}.${'A'.repeat(secret.length)}`;
    const partition = session.sessionId.slice(0, session.sessionId.indexOf('-'));
    const unknownId = () => `${partition}-${randomUUID()}.${secret}`;
    const probe = async (token: () => string, n: number) => {
      await redis.config('RESETSTAT');
      for (let i = 0; i < n; i++) {
        const response = await fetch(url(1, '/auth/me'), { headers: { 'x-session-id': token() } });
        expect(response.status).toBe(401);
        await response.arrayBuffer();
      }
      const stats = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
      return {
        calls: Number(stats?.[1] ?? 0),
        usecPerCall: Number(stats?.[2]) / Number(stats?.[1]),
      };
    };
    const rounds: { unknown: number; wrong: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const unknown = await probe(unknownId, 300);
      const wrong = await probe(() => wrongSecret, 300);
      expect(unknown.calls).toBeGreaterThanOrEqual(300);
      expect(wrong.calls).toBeGreaterThanOrEqual(300);
      rounds.push({ unknown: unknown.usecPerCall, wrong: wrong.usecPerCall });
    }
    console.log(
      `wrong-secret probes at the largest session (64 keys, ~4 KiB): Redis µs per validation ` +
        rounds.map((r) => `${r.wrong.toFixed(1)} vs unknown id ${r.unknown.toFixed(1)}`).join('; '),
    );
    // Median of three interleaved rounds: Redis time of a refusal does not depend on the session.
    const ratios = rounds.map((r) => r.wrong / r.unknown).sort((a, b) => a - b);
    expect(ratios[1]).toBeLessThan(2);
  });

  it('an api or worker configured with another partition count refuses to start', async () => {
    // The deployment was created by the two apis above with the default 16 partitions.
    const stored = await redis.hget(`${prefix}:deployment`, 'streamPartitions');
    expect(stored).toBe('16');
    for (const app of ['api', 'worker'] as const) {
      const started = AppProcess.start(app, `hostile-${app}-32`, {
        ...env,
        SESSION_STREAM_PARTITIONS: '32',
      });
      await expect(started).rejects.toThrow(
        /exited \(1\)[\s\S]*streamPartitions = 16[\s\S]*configured with 32/,
      );
    }
    console.log('partition mismatch: api and worker with 32 partitions exited 1 at start-up');
    // Nothing was written under another partition layout.
    expect(await redis.keys(`${prefix}:{p1[6-9]}:*`)).toEqual([]);
    expect(await redis.keys(`${prefix}:{p2*}:*`)).toEqual([]);
  });
});
