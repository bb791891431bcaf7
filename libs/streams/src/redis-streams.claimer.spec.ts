import {
  FakeRedis,
  fakeRuntime,
  until,
  type FakeHandler,
  fakeParts,
} from '../../../test/streams/support/fake-runtime';

function claimer(redis: FakeRedis, handlers: Record<string, FakeHandler> = {}, options = {}) {
  const runtime = fakeRuntime({ batchSize: 10, ...options }, redis);
  const { counters, dispatcher, claimer: c } = fakeParts(runtime, handlers, ['s', 't']);
  return { runtime, counters, dispatcher, c };
}

/** XAUTOCLAIM reply: next cursor, claimed entries, deleted ids (Redis 7). */
const autoclaim = (entries: [string, string[]][], deleted: string[] = []) => [
  '0-0',
  entries,
  deleted,
];

describe('Claimer', () => {
  it('takes over idle entries per stream, as many as there is room for, and keeps the cursor', async () => {
    const handled: string[] = [];
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XAUTOCLAIM') {
        return c[1] === 's'
          ? ['5-0', [['1-0', ['pattern', 'e', 'data', '{}']]], []]
          : autoclaim([]);
      }
      if (c[0] === 'XPENDING') return [[c[3], 'c', 70_000, 2]];
      return 1;
    });
    const { c, counters } = claimer(
      redis,
      { e: (_d, ctx) => void handled.push(ctx.getId()) },
      {
        concurrency: 4,
      },
    );
    await c.tick();
    await until(() => handled.length === 1);
    const claims = redis.sent.filter((s) => s[0] === 'XAUTOCLAIM');
    expect(claims).toEqual([
      ['XAUTOCLAIM', 's', 'g', 'c', 60_000, '0-0', 'COUNT', 4],
      ['XAUTOCLAIM', 't', 'g', 'c', 60_000, '0-0', 'COUNT', 3],
    ]);
    expect(counters.claimed).toBe(1);
    await c.tick();
    expect(redis.sent.filter((s) => s[0] === 'XAUTOCLAIM').at(-2)?.[5]).toBe('5-0');
  });

  it('renews the leases of held entries and marks those owned elsewhere lost', async () => {
    const release: (() => void)[] = [];
    const redis = new FakeRedis((c) => {
      if (c[0] === 'EVALSHA') return ['1-0']; // 2-0 was taken over
      if (c[0] === 'XAUTOCLAIM') return autoclaim([]);
      return 1;
    });
    const { c, dispatcher } = claimer(
      redis,
      {
        e: () => new Promise<void>((resolve) => release.push(resolve)),
      },
      { orderingKey: () => 'one key' },
    );
    await dispatcher.dispatchBatches(
      [
        {
          stream: 's',
          entries: [
            { id: '1-0', fields: { pattern: 'e', data: '{}' } },
            { id: '2-0', fields: { pattern: 'e', data: '{}' } },
          ],
        },
      ],
      'new',
    );
    await c.tick();
    const lease = redis.sent.find((s) => s[0] === 'EVALSHA')!;
    expect(lease.slice(2)).toEqual([1, 's', 'g', 'c', '', '1-0', '2-0']);
    const lost = dispatcher
      .heldEntries()
      .filter((e) => e.lost)
      .map((e) => e.id);
    expect(lost).toEqual(['2-0']);
    release.forEach((r) => r());
  });

  it('does not claim while `concurrency` entries are held', async () => {
    const redis = new FakeRedis((c) => (c[0] === 'EVALSHA' ? ['1-0'] : 1));
    const { c, dispatcher } = claimer(
      redis,
      { e: () => new Promise<void>(() => undefined) },
      {
        concurrency: 1,
      },
    );
    await dispatcher.dispatchBatches(
      [{ stream: 's', entries: [{ id: '1-0', fields: { pattern: 'e', data: '{}' } }] }],
      'new',
    );
    await c.tick();
    expect(redis.names()).not.toContain('XAUTOCLAIM');
  });

  it('re-creates a lost group (NOGROUP) and acknowledges entries Redis reports deleted', async () => {
    let nogroup = true;
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XAUTOCLAIM' && c[1] === 's' && nogroup) {
        nogroup = false;
        throw new Error('NOGROUP No such key');
      }
      if (c[0] === 'XAUTOCLAIM') return autoclaim([], ['9-0']);
      return 'OK';
    });
    const { c, counters } = claimer(redis);
    await c.tick();
    expect(redis.sent.filter((s) => s[0] === 'XGROUP').map((s) => s[2])).toEqual(['s', 't']);
    expect(counters.trimmed).toBe(1);
  });

  it('standalone: an unexpected error ends the tick (logged by schedule)', async () => {
    const redis = new FakeRedis(() => {
      throw new Error('LOADING');
    });
    const { c } = claimer(redis);
    await expect(c.tick()).rejects.toThrow('LOADING');
  });

  it('cluster: an error on one master does not stop claiming on the others', async () => {
    const redis = new FakeRedis((c) => {
      if (c[1] === 's') throw new Error('CLUSTERDOWN');
      return autoclaim([]);
    });
    const runtime = fakeRuntime({}, redis, true);
    await fakeParts(runtime, {}, ['s', 't']).claimer.tick();
    const claims = redis.sent.filter((s) => s[0] === 'XAUTOCLAIM');
    expect(claims.map((s) => s[1])).toEqual(['s', 't']);
    expect(runtime.logs.some((l) => l.message.includes('Claiming on s failed'))).toBe(true);
  });

  it('schedules ticks every claimIntervalMs until cancelled', async () => {
    jest.useFakeTimers();
    try {
      const redis = new FakeRedis(() => autoclaim([]));
      const { c } = claimer(redis, {}, { claimIntervalMs: 1_000, claimIdleMs: 5_000 });
      c.schedule(0);
      await jest.advanceTimersByTimeAsync(0);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(redis.sent.filter((s) => s[0] === 'XAUTOCLAIM')).toHaveLength(4);
      c.cancel();
      await c.idle();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(redis.sent.filter((s) => s[0] === 'XAUTOCLAIM')).toHaveLength(4);
    } finally {
      jest.useRealTimers();
    }
  });
});
