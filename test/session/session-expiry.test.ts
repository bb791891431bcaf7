import { createSessionFixture, sleep, type SessionFixture } from './session-fixture';

describe('Session expiry against real Redis (short TTLs)', () => {
  describe('sliding idle expiry', () => {
    let fx: SessionFixture;
    beforeAll(async () => {
      fx = await createSessionFixture('idle', {
        idleTtlSeconds: 2,
        absoluteTtlSeconds: 60,
        touchIntervalSeconds: 0,
      });
    });
    afterAll(() => fx.close());

    it('keeps a session alive while it is used and ends it after the idle TTL without use', async () => {
      const created = await fx.service.create('alice');
      for (let i = 0; i < 3; i++) {
        await sleep(1200);
        expect(await fx.service.validate(created.token)).not.toBeNull(); // 3.6 s > 2 s TTL overall
      }
      await sleep(2200);
      const result = await fx.service.verify(created.token);
      expect(result.valid).toBe(false);
    });

    it('lets Redis drop the key itself when the idle TTL passes (no leak)', async () => {
      const created = await fx.service.create('bob');
      const key = fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('bob'));
      const ttl = await fx.redis.pttl(key);
      expect(ttl).toBeGreaterThan(1000);
      expect(ttl).toBeLessThanOrEqual(2000);
      await sleep(2300);
      expect(await fx.redis.exists(key)).toBe(0);
    });
  });

  describe('absolute max age', () => {
    let fx: SessionFixture;
    beforeAll(async () => {
      fx = await createSessionFixture('absolute', {
        idleTtlSeconds: 2,
        absoluteTtlSeconds: 3,
        touchIntervalSeconds: 0,
      });
    });
    afterAll(() => fx.close());

    it('ends a session at its absolute age even when it is used constantly', async () => {
      const created = await fx.service.create('carol');
      const deadline = created.absoluteExpiresAt;
      let lastValid = 0;
      while (Date.now() < deadline + 1500) {
        const result = await fx.service.verify(created.token);
        if (result.valid) {
          lastValid = Date.now();
          expect(result.session.expiresAt).toBeLessThanOrEqual(deadline);
        }
        await sleep(250);
      }
      expect(lastValid).toBeGreaterThan(created.createdAt + 2000);
      expect(lastValid).toBeLessThan(deadline + 300);
      expect((await fx.service.verify(created.token)).valid).toBe(false);
    });
  });

  describe('throttled touch', () => {
    let fx: SessionFixture;
    beforeAll(async () => {
      // The cache off: this is about what each validation does in Redis.
      fx = await createSessionFixture('touch', {
        idleTtlSeconds: 60,
        absoluteTtlSeconds: 120,
        touchIntervalSeconds: 1,
        cache: { enabled: false },
      });
    });
    afterAll(() => fx.close());

    it('writes lastAccessedAt at most once per touch interval and never appends an event on reads', async () => {
      const created = await fx.service.create('dave');
      const key = fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('dave'));
      const stream = fx.service.keys.events(fx.service.keys.partitionOf('dave'));
      const eventsBefore = await fx.redis.xlen(stream);
      for (let i = 0; i < 20; i++) await fx.service.validate(created.token);
      expect(await fx.redis.hget(key, 'la')).toBe(String(created.createdAt)); // < 1 s: no touch yet
      await sleep(1100);
      const touched = await fx.service.validate(created.token);
      expect(touched!.lastAccessedAt).toBeGreaterThanOrEqual(created.createdAt + 1000);
      expect(await fx.redis.hget(key, 'la')).toBe(String(touched!.lastAccessedAt));
      expect(touched!.expiresAt).toBe(touched!.lastAccessedAt + 60_000);
      expect(await fx.redis.xlen(stream)).toBe(eventsBefore);
    });
  });
});
