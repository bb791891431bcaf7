import { formatToken, newSecret } from '@app/session/token';
import type { SessionData } from '@app/session';
import { RedisServerProcess } from '../support/redis-server-process';
import { createSessionFixture, otherSessionId, type SessionFixture } from './session-fixture';

/** Data of exactly `keys` keys and close to `bytes` bytes (key + JSON of each entry). */
function paddedData(keys: number, bytes: number): SessionData {
  const data: SessionData = {};
  const perKey = Math.floor(bytes / keys);
  for (let i = 0; i < keys; i++) {
    const key = `f${i}`;
    data[key] = 'x'.repeat(Math.max(0, perKey - key.length - 2));
  }
  return data;
}

interface CommandStat {
  calls: number;
  usec: number;
}

async function commandStats(fx: SessionFixture): Promise<Record<string, CommandStat>> {
  const stats: Record<string, CommandStat> = {};
  for (const [, name, calls, usec] of (await fx.redis.info('commandstats')).matchAll(
    /cmdstat_(\w+):calls=(\d+),usec=(\d+)/g,
  )) {
    stats[name] = { calls: Number(calls), usec: Number(usec) };
  }
  return stats;
}

/** Redis µs per EVALSHA over `n` calls, and how many HGETALLs they made. */
async function measure(
  fx: SessionFixture,
  n: number,
  call: () => Promise<unknown>,
): Promise<{ usecPerCall: number; hgetall: number }> {
  await fx.redis.config('RESETSTAT');
  for (let i = 0; i < n; i++) await call();
  const stats = await commandStats(fx);
  return {
    usecPerCall: stats.evalsha.usec / stats.evalsha.calls,
    hgetall: stats.hgetall?.calls ?? 0,
  };
}

describe('A wrong secret costs Redis O(1), whatever the session size (issue 11, item 4)', () => {
  // A private Redis: commandstats count only these calls.
  let server: RedisServerProcess;
  beforeAll(async () => {
    server = await RedisServerProcess.start();
  });
  afterAll(() => server?.stop());

  it.each([
    ['the largest allowed session (64 keys, 4 KiB)', {}, 64, 4096],
    [
      'a session of 4,000 keys, 64 KiB (limits raised)',
      { maxDataBytes: 65_536, maxDataKeys: 5000 },
      4000,
      65_536,
    ],
  ])('%s: within 2× of an unknown id, no data read', async (_, options, keys, bytes) => {
    const fx = await createSessionFixture('validate-cost', {
      redisUrl: server.url,
      cache: { enabled: false }, // every validation a script call
      ...options,
    });
    try {
      const created = await fx.service.create('victim', paddedData(keys, bytes));
      const wrongSecret = formatToken(created.sessionId, newSecret());
      const unknownId = formatToken(otherSessionId(created.sessionId), newSecret());
      expect((await fx.service.verify(wrongSecret)).valid).toBe(false);
      // Rounds alternate, and the best of each kind is kept: a busy machine only adds time.
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let round = 0; round < 5; round++) {
        const w = await measure(fx, 200, () => fx.service.verify(wrongSecret));
        const u = await measure(fx, 200, () => fx.service.verify(unknownId));
        expect(w.hgetall).toBe(0);
        expect(u.hgetall).toBe(0);
        wrong.push(w.usecPerCall);
        unknown.push(u.usecPerCall);
      }
      const valid = await measure(fx, 50, () => fx.service.validate(created.token));
      const [w, u] = [Math.min(...wrong), Math.min(...unknown)];
      console.log(
        `${keys} keys / ${bytes} bytes: wrong secret ${w.toFixed(1)} µs, unknown id ` +
          `${u.toFixed(1)} µs (${(w / u).toFixed(2)}×), a valid token ${valid.usecPerCall.toFixed(1)} µs`,
      );
      expect(w).toBeLessThanOrEqual(2 * u);
    } finally {
      await fx.close();
    }
  });
});

describe('No session size breaks validate, update or rotate (issue 11, item 4)', () => {
  let fx: SessionFixture;
  afterEach(() => fx?.close());

  it('validates, updates and rotates the largest session the defaults allow', async () => {
    fx = await createSessionFixture('largest');
    const data = paddedData(64, 4096);
    const created = await fx.service.create('olga', data);
    expect((await fx.service.validate(created.token))!.data).toEqual(data);
    const rotated = await fx.service.rotate(created.token);
    expect((await fx.service.validate(rotated.token))!.data).toEqual(data);
  });

  // unpack() of the hash used to pass Lua's ~8,000-result limit from ~12 KiB of data: a 500.
  it('with limits raised to 64 KiB and 5,000 keys: a 4,000-key session works', async () => {
    fx = await createSessionFixture('huge', { maxDataBytes: 65_536, maxDataKeys: 5000 });
    const data = paddedData(4000, 65_536);
    const created = await fx.service.create('pete', data);
    expect(Object.keys((await fx.service.validate(created.token))!.data)).toHaveLength(4000);
    const merged = await fx.service.update(created.sessionId, { f0: null, extra: 1 });
    expect(Object.keys(merged)).toHaveLength(4000);
    const rotated = await fx.service.rotate(created.token);
    const session = await fx.service.validate(rotated.token);
    expect(Object.keys(session!.data)).toHaveLength(4000);
    expect(session!.data.extra).toBe(1);
    expect(await fx.service.validate(created.token)).toBeNull();
  });
});
