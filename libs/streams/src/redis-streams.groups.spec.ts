import { FakeRedis, fakeRuntime } from '../../../test/streams/support/fake-runtime';
import { ConsumerGroups } from './redis-streams.groups';

const groupsReply = (fields: Record<string, unknown>) => [
  Object.entries({ name: 'g', ...fields }).flat(),
];

function groups(redis: FakeRedis, clustered = false) {
  return new ConsumerGroups(fakeRuntime({ streams: ['s', 't'] }, redis, clustered), ['s', 't']);
}

describe('ConsumerGroups', () => {
  it('creates the group on every stream (MKSTREAM), an existing one being fine', async () => {
    const redis = new FakeRedis((c) => {
      if (c[2] === 't') throw new Error('BUSYGROUP Consumer Group name already exists');
      return 'OK';
    });
    await groups(redis).ensure();
    expect(redis.sent).toEqual([
      ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'],
      ['XGROUP', 'CREATE', 't', 'g', '$', 'MKSTREAM'],
    ]);
  });

  it('tolerates a refused create (read-only replica, OOM) when the group is there', async () => {
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XGROUP')
        throw new Error('READONLY You can’t write against a read only replica');
      return groupsReply({});
    });
    await expect(groups(redis).ensure()).resolves.toBeUndefined();
  });

  it('fails when the create is refused and the group is missing', async () => {
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XGROUP') throw new Error('OOM command not allowed');
      return [];
    });
    await expect(groups(redis).ensure()).rejects.toThrow('OOM');
  });

  it('cluster: sends XGROUP behind EXISTS, which routes it to the node of the stream', async () => {
    const redis = new FakeRedis(() => 'OK');
    await groups(redis, true).ensure();
    expect(redis.sent.slice(0, 2)).toEqual([
      ['EXISTS', 's'],
      ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'],
    ]);
  });

  it('lag: XINFO GROUPS lag when Redis reports it', async () => {
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XPENDING') return [3, '1-0', '3-0', []];
      return groupsReply({ lag: 7, 'last-delivered-id': '9-0', 'entries-read': 9 });
    });
    expect(await groups(redis).lag()).toEqual([
      { stream: 's', partition: 0, pending: 3, lag: 7, lastDeliveredId: '9-0' },
      { stream: 't', partition: 1, pending: 3, lag: 7, lastDeliveredId: '9-0' },
    ]);
  });

  it('lag: entries-added minus entries-read when lag is unknown, null when neither is', async () => {
    const redis = new FakeRedis((c) => {
      if (c[0] === 'XPENDING') return [0, null, null, null];
      if (c[1] === 'STREAM') return ['length', 5, 'entries-added', 12];
      return c[2] === 's'
        ? groupsReply({ lag: null, 'entries-read': 10 })
        : groupsReply({ lag: null, 'entries-read': null });
    });
    const [s, t] = await groups(redis).lag();
    expect(s.lag).toBe(2);
    expect(t.lag).toBeNull();
  });

  it('detects XACKDEL from COMMAND INFO', async () => {
    const g = groups(new FakeRedis(() => [['xackdel', -5]]));
    await g.detectCapabilities();
    expect(g.getCapabilities()).toEqual({ xackdel: true });
    const old = groups(new FakeRedis(() => [null]));
    await old.detectCapabilities();
    expect(old.getCapabilities()).toEqual({ xackdel: false });
  });
});
