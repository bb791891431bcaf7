import { hostname } from 'node:os';
import { RedisStreamsConfigError } from './redis-streams.errors';
import {
  resolveClientOptions,
  resolveServerOptions,
  resolveStreams,
} from './redis-streams.options';

describe('resolveServerOptions', () => {
  const base = { streams: ['s'], group: 'g' };

  it('applies documented defaults, consumer = hostname', () => {
    const o = resolveServerOptions(base);
    expect(o).toMatchObject({
      group: 'g',
      consumer: hostname(),
      batchSize: 50,
      blockMs: 5_000,
      concurrency: 16,
      claimIdleMs: 60_000,
      claimIntervalMs: 10_000,
      maxDeliveries: 5,
      deadLetterMaxLen: 10_000,
      shutdownTimeoutMs: 10_000,
      startId: '$',
      deleteAcked: false,
      retryAttempts: Number.POSITIVE_INFINITY,
    });
    expect(o.deadLetterStream('a:{p1}:events')).toBe('a:{p1}:events:dead');
    expect(o.retryDelayMs(1)).toBe(1_000);
    expect(o.retryDelayMs(3)).toBe(4_000);
    expect(o.retryDelayMs(50)).toBe(30_000);
    expect(o.retryDelay(1)).toBe(100);
    expect(o.retryDelay(100)).toBe(2_000);
  });

  it('accepts numbers or functions for delays and dead-letter streams', () => {
    const o = resolveServerOptions({
      ...base,
      retryDelayMs: 7,
      retryDelay: (n) => n,
      deadLetterStream: 'dlq',
    });
    expect(o.retryDelayMs(9)).toBe(7);
    expect(o.retryDelay(3)).toBe(3);
    expect(o.deadLetterStream('x')).toBe('dlq');
  });

  it.each([
    [{ group: '' }, /group/],
    [{ consumer: '' }, /consumer/],
    [{ batchSize: 0 }, /batchSize/],
    [{ concurrency: 1.5 }, /concurrency/],
    [{ blockMs: 0 }, /blockMs/],
    [{ maxDeliveries: 0 }, /maxDeliveries/],
    [{ claimIdleMs: 10, claimIntervalMs: 10 }, /claimIdleMs/],
    [{ connection: { keyPrefix: 'x:' } }, /keyPrefix/],
    [{ deadLetterStream: '' }, /deadLetterStream/],
    [{ deadLetterMaxLen: -1 }, /deadLetterMaxLen/],
    [{ deadLetterMaxLen: 1.5 }, /deadLetterMaxLen/],
  ])('rejects %j', (patch, message) => {
    expect(() => resolveServerOptions({ ...base, ...patch })).toThrow(message);
    expect(() => resolveServerOptions({ ...base, ...patch })).toThrow(RedisStreamsConfigError);
  });

  it('resolves streams from a list or an async function, distinct and non-empty', async () => {
    await expect(resolveStreams(['a', 'b'])).resolves.toEqual(['a', 'b']);
    await expect(resolveStreams(async () => ['c'])).resolves.toEqual(['c']);
    await expect(resolveStreams([])).rejects.toThrow(/non-empty/);
    await expect(resolveStreams(['a', 'a'])).rejects.toThrow(/distinct/);
    await expect(resolveStreams(['a', ''])).rejects.toThrow(/streams\[1\]/);
  });
});

describe('resolveClientOptions', () => {
  it('builds the trimming arguments', () => {
    expect(resolveClientOptions({ stream: 's' }).trim()).toEqual([]);
    expect(resolveClientOptions({ stream: 's', maxLen: 1000 }).trim()).toEqual([
      'MAXLEN',
      '~',
      1000,
    ]);
    expect(resolveClientOptions({ stream: 's', minId: '5-0' }).trim()).toEqual([
      'MINID',
      '~',
      '5-0',
    ]);
    let n = 0;
    const dynamic = resolveClientOptions({ stream: 's', minId: () => `${++n}-0` });
    expect(dynamic.trim()).toEqual(['MINID', '~', '1-0']);
    expect(dynamic.trim()).toEqual(['MINID', '~', '2-0']);
  });

  it('routes to a fixed stream or through streamFor', () => {
    expect(resolveClientOptions({ stream: 's' }).streamFor('p', {})).toBe('s');
    const routed = resolveClientOptions({ streamFor: (p) => `x:${p}` });
    expect(routed.streamFor('p', {})).toBe('x:p');
    expect(routed.timeoutMs).toBe(5_000);
  });
});
