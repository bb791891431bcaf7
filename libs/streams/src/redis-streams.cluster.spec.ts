import {
  groupBySlot,
  isClusterConnection,
  keySlot,
  mapNodeKey,
  parseNodeKey,
  parseRedirection,
} from './redis-streams.cluster';
import { resolveClientOptions, resolveServerOptions } from './redis-streams.options';

describe('keySlot (CLUSTER KEYSLOT)', () => {
  it.each([
    ['foo', 12182],
    ['123456789', 12739],
    ['{user1000}.following', 3443],
    ['sess:{p0}:events', 15882],
    ['sess:{p0}:events:dead', 15882],
    ['sess:{p15}:events', 2138],
    // The first `{` and the next `}`; an empty tag hashes the whole key.
    ['x{b}y{c}', 3300],
    ['{}x', 10595],
    ['a{}{b}', 15033],
    ['{', 4092],
    ['é日本{ü}', 9552],
  ])('%s → %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('groups streams by slot, keeping their order', () => {
    expect(groupBySlot(['a:{p1}:x', 'b:{p2}:x', 'c:{p1}:y'])).toEqual([
      { slot: keySlot('p1'), streams: ['a:{p1}:x', 'c:{p1}:y'] },
      { slot: keySlot('p2'), streams: ['b:{p2}:x'] },
    ]);
  });
});

describe('cluster helpers', () => {
  it('parses MOVED / ASK redirections', () => {
    expect(parseRedirection(new Error('MOVED 3999 127.0.0.1:6381'))).toEqual({
      kind: 'MOVED',
      slot: 3999,
      node: '127.0.0.1:6381',
    });
    expect(parseRedirection(new Error('ASK 1 ::1:7000'))).toMatchObject({
      kind: 'ASK',
      node: '::1:7000',
    });
    expect(parseRedirection(new Error('CLUSTERDOWN The cluster is down'))).toBeUndefined();
    expect(parseRedirection('MOVED 1 a:1')).toBeUndefined();
  });

  it('parses node keys, IPv6 included', () => {
    expect(parseNodeKey('10.0.0.1:7000')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(parseNodeKey('::1:7000')).toEqual({ host: '::1', port: 7000 });
    expect(() => parseNodeKey('nope')).toThrow(/invalid node address/);
  });

  it('applies natMap like ioredis', () => {
    const natMap = { '10.0.0.1:7000': { host: 'public', port: 17000 } };
    expect(mapNodeKey({ natMap }, '10.0.0.1:7000')).toBe('public:17000');
    expect(mapNodeKey({ natMap }, '10.0.0.2:7000')).toBe('10.0.0.2:7000');
    expect(mapNodeKey({ natMap: () => ({ host: 'h', port: 1 }) }, 'x:2')).toBe('h:1');
    expect(mapNodeKey(undefined, 'x:2')).toBe('x:2');
  });

  it('recognizes and validates the cluster connection option', () => {
    const cluster = { cluster: { nodes: [{ host: '127.0.0.1', port: 7000 }] } };
    expect(isClusterConnection(cluster)).toBe(true);
    expect(isClusterConnection({ host: 'x' })).toBe(false);
    expect(isClusterConnection('redis://x')).toBe(false);
    expect(isClusterConnection(undefined)).toBe(false);
    const base = { streams: ['s'], group: 'g' };
    expect(() => resolveServerOptions({ ...base, connection: cluster })).not.toThrow();
    expect(() => resolveClientOptions({ stream: 's', connection: cluster })).not.toThrow();
    expect(() => resolveServerOptions({ ...base, connection: { cluster: { nodes: [] } } })).toThrow(
      /cluster\.nodes/,
    );
    expect(() =>
      resolveServerOptions({
        ...base,
        connection: { cluster: { nodes: [7000], options: { keyPrefix: 'p:' } } },
      }),
    ).toThrow(/keyPrefix/);
    expect(() =>
      resolveClientOptions({
        stream: 's',
        connection: { cluster: { nodes: [7000], options: { redisOptions: { keyPrefix: 'p:' } } } },
      }),
    ).toThrow(/keyPrefix/);
  });
});
