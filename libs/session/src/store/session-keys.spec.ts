import { randomUUID } from 'node:crypto';
import { SessionKeys } from './session-keys';

const TAG = /\{p(\d+)\}/g;

function tagsOf(key: string): string[] {
  return [...key.matchAll(TAG)].map((m) => m[0]);
}

describe('SessionKeys.partitionOf', () => {
  const keys = new SessionKeys('sess', 16);

  it('is stable: the same id gives the same partition on every call and every instance', () => {
    const other = new SessionKeys('other', 16);
    for (const userId of ['alice', 'user-42', '', 'ümlaut', '😀']) {
      const partition = keys.partitionOf(userId);
      expect(keys.partitionOf(userId)).toBe(partition);
      expect(other.partitionOf(userId)).toBe(partition);
    }
  });

  it('is 32-bit FNV-1a over UTF-8 bytes modulo the partition count', () => {
    // FNV-1a("") = 0x811c9dc5, FNV-1a("a") = 0xe40c292c (reference vectors).
    expect(new SessionKeys('s', 0x7fffffff).partitionOf('')).toBe(0x811c9dc5 % 0x7fffffff);
    expect(new SessionKeys('s', 1000).partitionOf('a')).toBe(0xe40c292c % 1000);
  });

  it('hashes the UTF-8 bytes of the id, not its UTF-16 code units', () => {
    // Reference FNV-1a written independently over an explicit byte list.
    const fnv = (bytes: number[]) =>
      bytes.reduce((h, b) => Number((BigInt(h ^ b) * 0x01000193n) & 0xffffffffn), 0x811c9dc5);
    const wide = new SessionKeys('s', 0x7fffffff);
    expect(wide.partitionOf('\u00e9')).toBe(fnv([0xc3, 0xa9]) % 0x7fffffff);
    expect(wide.partitionOf('\u00e9')).not.toBe(fnv([0xe9]) % 0x7fffffff);
    expect(wide.partitionOf('\u{1f600}')).toBe(fnv([0xf0, 0x9f, 0x98, 0x80]) % 0x7fffffff);
  });

  it('is an integer in [0, partitions) for many ids and partition counts', () => {
    for (const partitions of [1, 2, 7, 16, 1024]) {
      const k = new SessionKeys('sess', partitions);
      for (let i = 0; i < 500; i++) {
        const p = k.partitionOf(`user-${i}`);
        expect(Number.isInteger(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(partitions);
      }
    }
  });

  it('spreads 10,000 ids roughly evenly: each of 16 partitions gets 4-8%', () => {
    for (const make of [(i: number) => `user-${i}`, () => randomUUID()]) {
      const counts = new Array<number>(16).fill(0);
      for (let i = 0; i < 10_000; i++) counts[keys.partitionOf(make(i))]++;
      for (const count of counts) {
        expect(count).toBeGreaterThanOrEqual(400);
        expect(count).toBeLessThanOrEqual(800);
      }
    }
  });
});

describe('SessionKeys key names', () => {
  const keys = new SessionKeys('sess', 16);

  it('gives every key of one user the same single `{pN}` hash tag, N = partitionOf(user)', () => {
    const userId = 'user-123';
    const partition = keys.partitionOf(userId);
    const sessionId = `${partition}-${randomUUID()}`;
    const all = [
      keys.session(sessionId, partition),
      keys.revocationEpochs(partition),
      keys.userSessions(userId),
      keys.expiryIndex(partition),
      keys.events(partition),
    ];
    for (const key of all) {
      expect(tagsOf(key)).toEqual([`{p${partition}}`]);
      // Redis Cluster hashes the text between the first `{` and the next `}`.
      expect(key.slice(key.indexOf('{') + 1, key.indexOf('}'))).toBe(`p${partition}`);
    }
  });

  it('formats keys as `<prefix>:{p<N>}:<kind>[:<id>]`', () => {
    expect(keys.session('3-abc', 3)).toBe('sess:{p3}:session:3-abc');
    expect(keys.revocationEpochs(3)).toBe('sess:{p3}:revoked-before');
    expect(keys.expiryIndex(3)).toBe('sess:{p3}:expiry');
    expect(keys.events(3)).toBe('sess:{p3}:events');
    expect(keys.invalidationChannel()).toBe('sess:invalidations');
  });

  it('ends the user-sessions key with the user id, even one containing `:` or braces', () => {
    for (const userId of ['alice', 'a:b:c', 'x{p9}y', 'ünï']) {
      const key = keys.userSessions(userId);
      expect(key.endsWith(`:user-sessions:${userId}`)).toBe(true);
      expect(key.startsWith(`sess:{p${keys.partitionOf(userId)}}:`)).toBe(true);
    }
  });

  it('lists one event stream per partition, in partition order', () => {
    const streams = new SessionKeys('app', 4).allEventStreams();
    expect(streams).toEqual([
      'app:{p0}:events',
      'app:{p1}:events',
      'app:{p2}:events',
      'app:{p3}:events',
    ]);
  });

  it('never produces the same key for two different prefixes', () => {
    const prefixes = ['sess', 'sess2', 'sess.a', 'sess-a', 'ses', 's_ess'];
    const seen = new Map<string, string>();
    for (const prefix of prefixes) {
      const k = new SessionKeys(prefix, 4);
      const names = [
        k.session('1-x', 1),
        k.revocationEpochs(1),
        k.userSessions('u'),
        k.expiryIndex(1),
        ...k.allEventStreams(),
        k.invalidationChannel(),
      ];
      for (const name of names) {
        expect(seen.get(name)).toBeUndefined();
        seen.set(name, prefix);
      }
    }
    expect(seen.size).toBe(prefixes.length * 9);
  });

  it('never produces the same key for two kinds of key under one prefix', () => {
    const names = [
      keys.session('0-a', 0),
      keys.revocationEpochs(0),
      keys.userSessions('0-a'),
      keys.expiryIndex(0),
      keys.events(0),
      keys.invalidationChannel(),
    ];
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('SessionKeys.kindOf', () => {
  const keys = new SessionKeys('sess', 16);

  it('names the kind of every key the deployment writes', () => {
    const sessionId = 'abc';
    expect(keys.kindOf(keys.session(sessionId, 3))).toBe('session');
    expect(keys.kindOf(keys.revocationEpochs(3))).toBe('revocation-epochs');
    expect(keys.kindOf(keys.userSessions('bob'))).toBe('user-sessions');
    expect(keys.kindOf(keys.expiryIndex(3))).toBe('expiry-index');
    expect(keys.kindOf(keys.events(3))).toBe('events');
    expect(keys.kindOf(keys.deadLetters(keys.events(3)))).toBe('dead-letters');
    expect(keys.kindOf(keys.deploymentSettings())).toBe('deployment');
    expect(keys.kindOf(keys.loginFailures('bob', '::1').userIp)).toBe('login-failures');
    expect(keys.kindOf(keys.sessionWrites('bob', 1))).toBe('session-writes');
  });

  it('does not claim keys of another prefix or of nobody', () => {
    expect(keys.kindOf(new SessionKeys('other', 16).session('abc', 3))).toBeNull();
    expect(keys.kindOf('sess-x:{p1}:session:abc')).toBeNull();
    expect(keys.kindOf('bull:sweeps:meta')).toBeNull();
    expect(keys.kindOf('sess:{p1}:unknown')).toBeNull();
  });
});

describe('SessionKeys.userOfSessionsKey', () => {
  const keys = new SessionKeys('sess', 16);

  it('gives back the user id of a user index key, even one with colons', () => {
    expect(keys.userOfSessionsKey(keys.userSessions('a:user-sessions:b'))).toBe(
      'a:user-sessions:b',
    );
    expect(keys.userOfSessionsKey(keys.userSessions('bob'))).toBe('bob');
  });

  it('refuses a key whose tag is not the user partition', () => {
    expect(keys.userOfSessionsKey('sess:{p999}:user-sessions:bob')).toBeNull();
    expect(keys.userOfSessionsKey('sess:{p1}:expiry')).toBeNull();
  });
});
