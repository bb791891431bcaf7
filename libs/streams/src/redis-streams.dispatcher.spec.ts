import {
  FakeRedis,
  fakeRuntime,
  settle,
  until,
  type FakeHandler,
  fakeParts,
} from '../../../test/streams/support/fake-runtime';
import type { RawStreamEntry } from './redis-streams.parser';

function dispatcher(handlers: Record<string, FakeHandler>, redis = new FakeRedis(), options = {}) {
  const runtime = fakeRuntime(
    { orderingKey: (data) => (data as { key?: string }).key, ...options },
    redis,
  );
  const { counters, dispatcher: d } = fakeParts(runtime, handlers);
  return { redis, counters, d };
}

const entry = (id: string, data: unknown, pattern = 'e'): RawStreamEntry => ({
  id,
  fields: { pattern, data: JSON.stringify(data) },
});

/** A handler that finishes when told, recording starts and ends. */
function gatedHandler(log: string[]) {
  const release = new Map<string, () => void>();
  const handler: FakeHandler = (data) => {
    const { name } = data as { name: string };
    log.push(`start ${name}`);
    return new Promise<void>((resolve) =>
      release.set(name, () => {
        log.push(`end ${name}`);
        resolve();
      }),
    );
  };
  return { handler, finish: (name: string) => release.get(name)!() };
}

describe('Dispatcher', () => {
  it('runs entries of one key one at a time in stream order, other keys in parallel', async () => {
    const log: string[] = [];
    const { handler, finish } = gatedHandler(log);
    const { d } = dispatcher({ e: handler });
    await d.dispatchBatches(
      [
        {
          stream: 's',
          entries: [
            entry('1-0', { key: 'a', name: 'a1' }),
            entry('2-0', { key: 'b', name: 'b1' }),
            entry('3-0', { key: 'a', name: 'a2' }),
          ],
        },
      ],
      'new',
    );
    await settle();
    expect(log).toEqual(['start a1', 'start b1']);
    expect(d.inFlight).toBe(3);
    finish('a1');
    await until(() => log.length === 4);
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start a2']);
    finish('b1');
    finish('a2');
    expect(await d.drain(1_000)).toBe(true);
    expect(d.inFlight).toBe(0);
  });

  it('dispatches an entry once while it is held, whoever meets it again', async () => {
    const log: string[] = [];
    const { handler, finish } = gatedHandler(log);
    const { d } = dispatcher({ e: handler });
    const batch = { stream: 's', entries: [entry('1-0', { name: 'x' })] };
    await d.dispatchBatches([batch], 'new');
    await d.dispatchBatches([batch], 'new');
    await settle();
    expect(log).toEqual(['start x']);
    expect(d.heldEntries().map((e) => e.id)).toEqual(['1-0']);
    finish('x');
    await d.drain(1_000);
  });

  it('takes the delivery count of re-read or claimed entries from XPENDING, skipping those not ours', async () => {
    const redis = new FakeRedis((c) => {
      if (c[0] !== 'XPENDING') return 1;
      return c[3] === '1-0' ? [['1-0', 'c', 10, 4]] : [['2-0', 'other', 10, 1]];
    });
    const counts: number[] = [];
    const { d, counters } = dispatcher(
      { e: (_data, ctx) => void counts.push(ctx.getDeliveryCount()) },
      redis,
    );
    const batch = { stream: 's', entries: [entry('1-0', {}), entry('2-0', {})] };
    await d.dispatchBatches([batch], 'claimed');
    await d.drain(1_000);
    expect(counts).toEqual([4]);
    expect(counters.claimed).toBe(1);
  });

  it('acknowledges trimmed entries (nil fields) without dispatching them', async () => {
    const run = jest.fn();
    const { d, redis, counters } = dispatcher({ e: run });
    await d.dispatchBatches([{ stream: 's', entries: [{ id: '1-0', fields: null }] }], 'pending');
    await settle();
    expect(run).not.toHaveBeenCalled();
    expect(counters.trimmed).toBe(1);
    expect(redis.sent).toEqual([['XACK', 's', 'g', '1-0']]);
  });

  it('dead-letters malformed entries and entries whose ordering key throws', async () => {
    const run = jest.fn();
    const { d, redis, counters } = dispatcher({ e: run }, new FakeRedis(), {
      orderingKey: (data: unknown) => {
        if ((data as { bad?: boolean }).bad) throw new Error('no key');
        return undefined;
      },
    });
    await d.dispatchBatches(
      [
        {
          stream: 's',
          entries: [
            { id: '1-0', fields: { pattern: 'e', data: 'not json' } },
            entry('2-0', { bad: true }),
          ],
        },
      ],
      'new',
    );
    await d.drain(1_000);
    expect(run).not.toHaveBeenCalled();
    expect(counters.deadLettered).toBe(2);
    const errors = redis.sent.filter((c) => c[0] === 'XADD').map((c) => c[c.indexOf('error') + 1]);
    expect(errors[1]).toBe('orderingKey failed: no key');
  });

  it('ignores streams it does not consume', async () => {
    const run = jest.fn();
    const { d } = dispatcher({ e: run });
    await d.dispatchBatches([{ stream: 'other', entries: [entry('1-0', {})] }], 'new');
    await settle();
    expect(run).not.toHaveBeenCalled();
  });

  it('makes readers wait while `concurrency` entries are held', async () => {
    const log: string[] = [];
    const { handler, finish } = gatedHandler(log);
    const { d } = dispatcher({ e: handler }, new FakeRedis(), { concurrency: 1 });
    await d.dispatchBatches([{ stream: 's', entries: [entry('1-0', { name: 'x' })] }], 'new');
    let room = false;
    void d.waitForRoom().then(() => (room = true));
    await settle();
    expect(room).toBe(false);
    finish('x');
    await d.drain(1_000);
    await settle();
    expect(room).toBe(true);
  });

  it('drain() answers false when handlers outlast the timeout', async () => {
    const { handler, finish } = gatedHandler([]);
    const { d } = dispatcher({ e: handler });
    await d.dispatchBatches([{ stream: 's', entries: [entry('1-0', { name: 'x' })] }], 'new');
    expect(await d.drain(10)).toBe(false);
    finish('x');
    expect(await d.drain(1_000)).toBe(true);
  });
});
