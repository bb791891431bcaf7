import { FakeRedis, fakeRuntime, settle } from '../../../test/streams/support/fake-runtime';
import { Acknowledger, ACK_ATTEMPTS } from './redis-streams.acknowledger';
import { ConsumerGroups } from './redis-streams.groups';
import { createCounters } from './redis-streams.runtime';

function acknowledger(redis: FakeRedis, options = {}, clustered = false) {
  const runtime = fakeRuntime({ retryDelay: 0, ...options }, redis, clustered);
  const groups = new ConsumerGroups(runtime, ['s']);
  const counters = createCounters();
  return { runtime, groups, counters, acks: new Acknowledger(runtime, groups, counters) };
}

describe('Acknowledger', () => {
  it('acknowledges the entries of one turn with one XACK per stream', async () => {
    const redis = new FakeRedis(() => 1);
    const { acks } = acknowledger(redis);
    await Promise.all([
      acks.ack({ stream: 's', id: '1-0' }),
      acks.ack({ stream: 's', id: '2-0' }),
      acks.ack({ stream: 't', id: '3-0' }),
    ]);
    expect(redis.sent).toEqual([
      ['XACK', 's', 'g', '1-0', '2-0'],
      ['XACK', 't', 'g', '3-0'],
    ]);
  });

  it('retries a failed XACK, so a fail-over does not leave handled entries to the claim', async () => {
    let failures = 2;
    const redis = new FakeRedis(() => {
      if (failures-- > 0) throw new Error('Connection is closed.');
      return 1;
    });
    const { acks, runtime } = acknowledger(redis);
    await acks.ack({ stream: 's', id: '1-0' });
    expect(redis.names()).toEqual(['XACK', 'XACK', 'XACK']);
    expect(runtime.logs.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it(`gives up after ${ACK_ATTEMPTS} attempts with the last error`, async () => {
    const redis = new FakeRedis(() => {
      throw new Error('READONLY');
    });
    const { acks } = acknowledger(redis);
    await expect(acks.ack({ stream: 's', id: '1-0' })).rejects.toThrow('READONLY');
    expect(redis.sent).toHaveLength(ACK_ATTEMPTS);
  });

  it('does not retry after close()', async () => {
    const redis = new FakeRedis(() => {
      throw new Error('Connection is closed.');
    });
    const { acks, runtime } = acknowledger(redis);
    runtime.close();
    await expect(acks.ack({ stream: 's', id: '1-0' })).rejects.toThrow();
    expect(redis.sent).toHaveLength(1);
  });

  it('uses XACKDEL … ACKED with deleteAcked when Redis has it, behind EXISTS on a cluster', async () => {
    const redis = new FakeRedis((c) => (c[0] === 'COMMAND' ? [['xackdel']] : 1));
    const { acks, groups } = acknowledger(redis, { deleteAcked: true }, true);
    await groups.detectCapabilities();
    await acks.ack({ stream: 's', id: '1-0' });
    expect(redis.sent.slice(1)).toEqual([
      ['EXISTS', 's'],
      ['XACKDEL', 's', 'g', 'ACKED', 'IDS', 1, '1-0'],
    ]);
  });

  it('falls back to XACK with deleteAcked when Redis lacks XACKDEL', async () => {
    const redis = new FakeRedis((c) => (c[0] === 'COMMAND' ? [null] : 1));
    const { acks, groups } = acknowledger(redis, { deleteAcked: true });
    await groups.detectCapabilities();
    await acks.ack({ stream: 's', id: '1-0' });
    expect(redis.sent.at(-1)).toEqual(['XACK', 's', 'g', '1-0']);
  });

  it('acknowledges and counts trimmed entries', async () => {
    const redis = new FakeRedis(() => 2);
    const { acks, counters } = acknowledger(redis);
    acks.skipTrimmed('s', ['1-0', '2-0']);
    await settle();
    expect(counters.trimmed).toBe(2);
    expect(redis.sent).toEqual([['XACK', 's', 'g', '1-0', '2-0']]);
  });
});
