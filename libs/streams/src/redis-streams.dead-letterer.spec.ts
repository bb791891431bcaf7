import { FakeRedis, fakeRuntime } from '../../../test/streams/support/fake-runtime';
import { DeadLetterer } from './redis-streams.dead-letterer';
import { createCounters, type HeldEntry } from './redis-streams.runtime';

const entry: HeldEntry = { stream: 's', partition: 0, id: '5-0', deliveryCount: 3, lost: false };
const fields = { pattern: 'e', data: '{"n":1}' };

function deadLetterer(redis: FakeRedis, options = {}) {
  const counters = createCounters();
  return { counters, dlq: new DeadLetterer(fakeRuntime(options, redis), counters) };
}

describe('DeadLetterer', () => {
  it('adds the dead letter (capped with MAXLEN ~) and acknowledges the entry in one MULTI', async () => {
    const redis = new FakeRedis(() => 'OK');
    const { dlq, counters } = deadLetterer(redis, { deadLetterMaxLen: 100 });
    await dlq.deadLetter(entry, fields, 'boom', 'failed');
    const [xadd, xack] = redis.sent;
    expect(xadd.slice(0, 5)).toEqual(['XADD', 's:dead', 'MAXLEN', '~', 100]);
    const record = xadd.slice(6);
    const asObject = Object.fromEntries(
      record.flatMap((v, i) => (i % 2 === 0 ? [[v, record[i + 1]]] : [])),
    );
    expect(asObject).toMatchObject({
      pattern: 'e',
      data: '{"n":1}',
      error: 'boom',
      deliveryCount: 3,
      originalStream: 's',
      originalId: '5-0',
      group: 'g',
      consumer: 'c',
      reason: 'failed',
    });
    expect(asObject.fields).toBeUndefined();
    expect(xack).toEqual(['XACK', 's', 'g', '5-0']);
    expect(counters.deadLettered).toBe(1);
    expect(counters.deadLetteredByReason.failed).toBe(1);
  });

  it('keeps the raw fields of a malformed entry, and does not cap with deadLetterMaxLen 0', async () => {
    const redis = new FakeRedis(() => 'OK');
    const { dlq } = deadLetterer(redis, { deadLetterMaxLen: 0 });
    await dlq.deadLetter(entry, { junk: 'x' }, 'no pattern', 'malformed');
    const xadd = redis.sent[0];
    expect(xadd.slice(0, 3)).toEqual(['XADD', 's:dead', '*']);
    expect(xadd.slice(-2)).toEqual(['fields', '{"junk":"x"}']);
  });

  it('rejects with the failing command’s error and counts nothing', async () => {
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XADD') throw new Error('OOM command not allowed');
      return 1;
    });
    const { dlq, counters } = deadLetterer(redis);
    await expect(dlq.deadLetter(entry, fields, 'boom', 'failed')).rejects.toThrow('OOM');
    expect(counters.deadLettered).toBe(0);
  });
});
