import { waitUntil } from '../support/eventually';
import { firstValueFrom, take, toArray } from 'rxjs';
import { RedisServerProcess } from '../support/redis-server-process';
import { createSessionFixture, sleep, type SessionFixture } from './session-fixture';

async function countScriptCalls(
  fx: SessionFixture,
  action: () => Promise<unknown>,
): Promise<number> {
  const calls: string[] = [];
  const monitor = await fx.redis.monitor();
  // This fixture's commands only (its keys carry its prefix): other suites share the server.
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args.some((arg) => arg.startsWith(fx.prefix))) calls.push(args[0].toLowerCase());
  });
  await action();
  await fx.redis.ping();
  await sleep(20);
  monitor.disconnect();
  return calls.filter((c) => c === 'evalsha' || c === 'eval').length;
}

describe('Local session cache (L1) in one process', () => {
  let a: SessionFixture;
  let b: SessionFixture;

  beforeAll(async () => {
    a = await createSessionFixture('l1');
    // A second "instance" on the same keys: its own cache and subscriber.
    b = await createSessionFixture('l1-b', { keyPrefix: a.prefix });
    await waitUntil(() => a.service.invalidationsConnected && b.service.invalidationsConnected);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('serves repeated validations from memory without a Redis round trip', async () => {
    const created = await a.service.create('alice');
    expect(await a.service.validate(created.token)).not.toBeNull(); // miss: fills the cache
    const hitsBefore = a.service.stats().l1.hits;
    const scripts = await countScriptCalls(a, async () => {
      for (let i = 0; i < 200; i++) expect(await a.service.validate(created.token)).not.toBeNull();
    });
    expect(scripts).toBe(0);
    expect(a.service.stats().l1.hits - hitsBefore).toBe(200);
  });

  it('still checks the secret on a hit', async () => {
    const created = await a.service.create('bob');
    await a.service.validate(created.token);
    const forged = `${created.sessionId}.${'B'.repeat(43)}`;
    expect(await a.service.verify(forged)).toEqual({ valid: false, reason: 'bad_secret' });
  });

  it('rejects a session revoked on another instance within milliseconds', async () => {
    const created = await a.service.create('carol');
    await a.service.validate(created.token);
    await b.service.validate(created.token);
    await b.service.revoke(created.sessionId);
    expect(await b.service.validate(created.token)).toBeNull(); // the revoking instance: at once
    const delay = await waitUntil(
      async () => (await a.service.validate(created.token)) === null,
      1000,
    );
    expect(delay).toBeLessThan(1000);
  });

  it('drops the old token of a session rotated elsewhere and every session of a user revoked elsewhere', async () => {
    const s1 = await a.service.create('dave');
    const s2 = await a.service.create('dave');
    await Promise.all([s1, s2].map((s) => a.service.validate(s.token)));
    const rotated = await b.service.rotate(s1.token);
    await waitUntil(async () => (await a.service.validate(s1.token)) === null, 1000);
    expect(await a.service.validate(rotated.token)).not.toBeNull();
    await b.service.revokeAllForUser('dave');
    await waitUntil(async () => (await a.service.validate(s2.token)) === null, 1000);
    expect(await a.service.validate(rotated.token)).toBeNull();
  });

  it('keeps the current session and drops the others on revokeOthers from another instance', async () => {
    const keep = await a.service.create('erin');
    const other = await a.service.create('erin');
    await Promise.all([keep, other].map((s) => a.service.validate(s.token)));
    await b.service.revokeOthers('erin', keep.sessionId);
    await waitUntil(async () => (await a.service.validate(other.token)) === null, 1000);
    expect(await a.service.validate(keep.token)).not.toBeNull();
  });

  it('serves fresh data after an update on another instance', async () => {
    const created = await a.service.create('frank', { theme: 'light' });
    expect((await a.service.validate(created.token))?.data.theme).toBe('light');
    await b.service.update(created.sessionId, { theme: 'dark' });
    await waitUntil(
      async () => (await a.service.validate(created.token))?.data.theme === 'dark',
      1000,
    );
  });

  it('publishes revocations to observers, and watch() fires once for the watched session', async () => {
    const watched = await a.service.create('grace');
    const bystander = await a.service.create('heidi');
    const notices = firstValueFrom(a.service.revocations$.pipe(take(2), toArray()));
    const fired = firstValueFrom(a.service.watch({ ...watched, userId: 'grace' }));
    await b.service.revoke(bystander.sessionId, 'admin');
    await b.service.revokeAllForUser('grace');
    const [first, second] = await notices;
    expect(first).toMatchObject({
      kind: 'session',
      sessionId: bystander.sessionId,
      userId: 'heidi',
      reason: 'admin',
    });
    expect(second).toMatchObject({ kind: 'user', userId: 'grace' });
    expect(await fired).toMatchObject({ kind: 'user', userId: 'grace' });
  });

  it('records the propagation delay of what it receives', async () => {
    const before = a.service.stats().propagationDelay.count;
    const created = await b.service.create('ivan');
    await b.service.revoke(created.sessionId);
    await waitUntil(() => a.service.stats().propagationDelay.count > before, 1000);
    expect(a.service.stats().propagationDelay.maxMs).toBeLessThan(1000);
  });

  it('is bounded by its entry limit and counts evictions', async () => {
    const small = await createSessionFixture('l1-small', { cache: { maxEntries: 10 } });
    await waitUntil(() => small.service.invalidationsConnected);
    for (let i = 0; i < 25; i++)
      await small.service.validate((await small.service.create(`u${i}`)).token);
    const { l1 } = small.service.stats();
    expect(l1.entries).toBe(10);
    expect(l1.evictions).toBe(15);
    await small.close();
  });
});

describe('Local session cache under lost messages and broken connections', () => {
  it('rejects a revoked session after maxStaleness even when no message says so', async () => {
    const fx = await createSessionFixture('l1-stale', { cache: { maxStalenessMs: 400 } });
    await waitUntil(() => fx.service.invalidationsConnected);
    const created = await fx.service.create('alice');
    await fx.service.validate(created.token);
    // Delete behind the library's back: no invalidation is published.
    await fx.redis.del(
      fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('alice')),
    );
    const revokedAt = Date.now();
    await waitUntil(async () => (await fx.service.validate(created.token)) === null, 2000);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(400 + 100);
    await fx.close();
  });

  it('keeps extending the idle expiry in Redis while the session is served from memory', async () => {
    const fx = await createSessionFixture('l1-touch', {
      idleTtlSeconds: 2,
      touchIntervalSeconds: 1,
      cache: { maxStalenessMs: 60_000 },
    });
    await waitUntil(() => fx.service.invalidationsConnected);
    const created = await fx.service.create('bob');
    const key = fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('bob'));
    const deadline = Date.now() + 4500;
    while (Date.now() < deadline) {
      expect(await fx.service.validate(created.token)).not.toBeNull();
      await sleep(200);
    }
    expect(await fx.redis.exists(key)).toBe(1); // 4.5 s of use > 2 s idle TTL
    expect(Number(await fx.redis.hget(key, 'la'))).toBeGreaterThan(created.createdAt + 2500);
    expect(fx.service.stats().l1.hits).toBeGreaterThan(10);
    await fx.close();
  });

  it('bypasses the cache while the subscriber is disconnected, then flushes it on resubscribe', async () => {
    const fx = await createSessionFixture('l1-kill', { cache: { maxStalenessMs: 60_000 } });
    await waitUntil(() => fx.service.invalidationsConnected);
    const created = await fx.service.create('carol');
    await fx.service.validate(created.token);
    const resubscribes = fx.service.stats().subscriber.resubscribes;
    await fx.redis.client('KILL', 'TYPE', 'pubsub');
    // Revoked while nobody listens: the message is lost.
    await fx.redis.del(
      fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('carol')),
    );
    expect(await fx.service.validate(created.token)).toBeNull();
    await waitUntil(() => fx.service.stats().subscriber.resubscribes > resubscribes, 5000);
    expect(await fx.service.validate(created.token)).toBeNull();
    await fx.close();
  });

  it('stops trusting the cache when Redis stops answering PING, and recovers without a restart', async () => {
    const redis = await RedisServerProcess.start();
    const fx = await createSessionFixture('l1-pause', {
      redisUrl: redis.url,
      cache: { maxStalenessMs: 60_000 },
      invalidations: { pingIntervalMs: 100, pingTimeoutMs: 200 },
      commandTimeoutMs: 300,
    });
    try {
      await waitUntil(() => fx.service.invalidationsConnected);
      const created = await fx.service.create('dave');
      await fx.service.validate(created.token);
      const sleeper = fx.redis.duplicate();
      void sleeper.call('DEBUG', 'SLEEP', '1.5').catch(() => undefined);
      await waitUntil(() => !fx.service.invalidationsConnected, 2000);
      await expect(fx.service.validate(created.token)).rejects.toThrow(/unavailable/);
      await waitUntil(() => fx.service.invalidationsConnected, 10_000);
      expect(await fx.service.validate(created.token)).not.toBeNull();
      expect(fx.service.stats().subscriber.pingFailures).toBeGreaterThan(0);
      sleeper.disconnect();
    } finally {
      await fx.close();
      await redis.stop();
    }
  });
});
