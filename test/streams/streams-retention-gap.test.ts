import type { RedisStreamsRetentionGap } from '@app/streams';
import { waitFor, xadd, streamsTestContext } from './streams-fixture';

/** XINFO GROUPS of one group as a record. */
async function groupInfo(
  redis: ReturnType<typeof streamsTestContext>['redis'],
  stream: string,
): Promise<Record<string, unknown>> {
  const [flat] = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  const info: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
  return info;
}

describe('RedisStreamsServer: entries trimmed before the group read them', () => {
  const suite = streamsTestContext('streams-gap');

  it('finds a gap on start, reports how many entries were missed, and corrects the lag', async () => {
    const stream = `${suite.prefix}:s`;
    await suite.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    for (let n = 0; n < 30; n++) await xadd(suite.redis, stream, 't.e', { n });
    // A consumer read 10, then was down while the producer trimmed to the newest 5.
    await suite.redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
    await suite.redis.xtrim(stream, 'MAXLEN', 5);
    const gaps: RedisStreamsRetentionGap[] = [];
    const seen: number[] = [];
    const consumer = await suite.start(
      {
        streams: [stream],
        group: 'g',
        consumer: 'c1',
        onRetentionGap: (gap) => void gaps.push(gap),
      },
      ['t.e'],
      (data: { n: number }) => void seen.push(data.n),
    );
    await waitFor('the 5 retained entries', () => seen.length >= 5);
    // 15 never read, and the 10 it read (pending) but never handled: all lost to the trim.
    await waitFor('both gaps', () => gaps.length === 2);
    expect(gaps).toEqual([
      expect.objectContaining({ stream, partition: 0, kind: 'unread', missed: 15 }),
      expect.objectContaining({ stream, partition: 0, kind: 'pending', missed: 10 }),
    ]);
    expect(consumer.server.stats()).toMatchObject({ retentionGaps: 2, missedEntries: 25 });
    await waitFor('lag 0', async () => (await groupInfo(suite.redis, stream)).lag === 0);
    // Reported once: the next claim ticks find nothing more.
    await xadd(suite.redis, stream, 't.e', { n: 30 });
    await waitFor('the next entry', () => seen.includes(30));
    expect(gaps).toHaveLength(2);
  });

  it('finds a gap a running consumer read past (trimmed between two reads): its lag stops counting the lost entries', async () => {
    const stream = `${suite.prefix}:s`;
    await suite.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    await xadd(suite.redis, stream, 't.e', { n: 0 });
    await suite.redis.xreadgroup('GROUP', 'g', 'other', 'COUNT', 1, 'STREAMS', stream, '>');
    for (let n = 1; n <= 20; n++) await xadd(suite.redis, stream, 't.e', { n });
    await suite.redis.xtrim(stream, 'MAXLEN', 4);
    // What XREADGROUP does after such a trim: jumps to the retained entries, counting on.
    await suite.redis.xreadgroup('GROUP', 'g', 'other', 'COUNT', 100, 'STREAMS', stream, '>');
    expect((await groupInfo(suite.redis, stream)).lag).toBe(16);
    const gaps: RedisStreamsRetentionGap[] = [];
    await suite.start(
      {
        streams: [stream],
        group: 'g',
        consumer: 'c1',
        onRetentionGap: (gap) => void gaps.push(gap),
      },
      ['t.e'],
      () => undefined,
    );
    await waitFor('the gap', () => gaps.length === 1);
    expect(gaps[0]).toMatchObject({ kind: 'unread', missed: 16 });
    expect((await groupInfo(suite.redis, stream)).lag).toBe(0);
  });
});
