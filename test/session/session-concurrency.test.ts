import { createSessionFixture, type SessionFixture } from './session-fixture';

describe('Session concurrency against real Redis', () => {
  let fx: SessionFixture;
  beforeAll(async () => {
    fx = await createSessionFixture('concurrency', { maxDataBytes: 65536, maxDataKeys: 128 });
  });
  afterAll(() => fx.close());

  it('loses nothing when 100 requests update different keys of one session at once', async () => {
    const created = await fx.service.create('alice', { base: true });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        fx.service.update(created.sessionId, { [`key${i}`]: i }),
      ),
    );
    const session = await fx.service.validate(created.token);
    expect(Object.keys(session!.data)).toHaveLength(101);
    for (let i = 0; i < 100; i++) expect(session!.data[`key${i}`]).toBe(i);
    const key = fx.service.keys.session(created.sessionId, fx.service.keys.partitionOf('alice'));
    const stored = await fx.redis.hgetall(key);
    const dataBytes = Object.entries(stored)
      .filter(([field]) => field.startsWith('d:'))
      .reduce(
        (sum, [field, json]) => sum + Buffer.byteLength(field.slice(2)) + Buffer.byteLength(json),
        0,
      );
    expect(Number(stored.db)).toBe(dataBytes);
  });

  it('writes one session.updated event per update', async () => {
    const created = await fx.service.create('bob');
    const stream = fx.service.keys.events(fx.service.keys.partitionOf('bob'));
    const before = await fx.redis.xlen(stream);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fx.service.update(created.sessionId, { [`k${i}`]: 'v' }),
      ),
    );
    expect((await fx.redis.xlen(stream)) - before).toBe(50);
  });

  it('revokes every session created before a revoke-all, however close in time, and none after', async () => {
    // Creates race a revoke-all; whatever the interleaving, a session is alive iff it was created
    // after the epoch (its createdAt is then strictly greater).
    const creates = Array.from({ length: 200 }, () => fx.service.create('carol'));
    const revoke = fx.service.revokeAllForUser('carol');
    const more = Array.from({ length: 200 }, () => fx.service.create('carol'));
    const sessions = await Promise.all([...creates, ...more]);
    await revoke;
    for (let i = 0; i < 20; i++) sessions.push(await fx.service.create('carol'));
    const epoch = Number(
      await fx.redis.hget(
        fx.service.keys.revocationEpochs(fx.service.keys.partitionOf('carol')),
        'carol',
      ),
    );
    let alive = 0;
    for (const s of sessions) {
      const valid = (await fx.service.verify(s.token)).valid;
      expect(valid).toBe(s.createdAt > epoch);
      if (valid) alive++;
    }
    expect(alive).toBeGreaterThan(0);
    expect(alive).toBeLessThan(sessions.length);
  });

  it('a rotate racing a revoke never leaves a live session behind', async () => {
    for (let i = 0; i < 20; i++) {
      const created = await fx.service.create('dave');
      const [rotated] = await Promise.allSettled([
        fx.service.rotate(created.token),
        fx.service.revoke(created.sessionId),
      ]);
      expect((await fx.service.verify(created.token)).valid).toBe(false);
      if (rotated.status === 'fulfilled') {
        // The rotate won: the new session exists and the revoke found nothing under the old id.
        await fx.service.revoke(rotated.value.sessionId);
        expect((await fx.service.verify(rotated.value.token)).valid).toBe(false);
      }
    }
  });
});
