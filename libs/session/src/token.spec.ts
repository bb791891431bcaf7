import { createHash } from 'node:crypto';
import {
  formatToken,
  hashSecret,
  newSecret,
  newSessionId,
  parseSessionId,
  parseToken,
  safeEqual,
} from './token';

const UUID = '3f2b8c1e-9a4d-4c7b-8e21-5d6f7a8b9c0d';
const SECRET = 'A'.repeat(42) + 'w'; // 43 base64url characters
const PARTITIONS = 16;

describe('newSessionId', () => {
  it('produces `<partition>-<uuid v4>` that parseSessionId maps back to the partition', () => {
    for (const partition of [0, 7, 15]) {
      const id = newSessionId(partition);
      expect(id).toMatch(
        /^\d+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(id.startsWith(`${partition}-`)).toBe(true);
      expect(parseSessionId(id, PARTITIONS)).toBe(partition);
    }
  });

  it('differs on every call', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newSessionId(3)));
    expect(ids.size).toBe(100);
  });
});

describe('newSecret', () => {
  it('is 43 base64url characters encoding exactly 32 bytes (256 bits)', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });

  it('differs on every call, across refills of its random pool', () => {
    const secrets = Array.from({ length: 1000 }, () => newSecret());
    expect(new Set(secrets).size).toBe(1000);
    // Not an all-zero pool handed out (bytes are zeroed after use): every secret has entropy.
    expect(secrets.filter((s) => /^A+[AQgw]$/.test(s))).toEqual([]);
    const bytes = Buffer.concat(secrets.map((s) => Buffer.from(s, 'base64url')));
    const ones = [...bytes].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
    expect(ones / (bytes.length * 8)).toBeGreaterThan(0.48);
    expect(ones / (bytes.length * 8)).toBeLessThan(0.52);
  });
});

describe('formatToken and parseToken', () => {
  it('round-trip a freshly generated session id and secret', () => {
    const sessionId = newSessionId(5);
    const secret = newSecret();
    expect(parseToken(formatToken(sessionId, secret), PARTITIONS)).toEqual({
      sessionId,
      partition: 5,
      secret,
    });
  });
});

describe('parseToken', () => {
  it('accepts `<partition>-<uuidv4>.<43 base64url chars>`', () => {
    expect(parseToken(`12-${UUID}.${SECRET}`, PARTITIONS)).toEqual({
      sessionId: `12-${UUID}`,
      partition: 12,
      secret: SECRET,
    });
  });

  it('accepts a secret containing `-` and `_`', () => {
    const secret = '-_' + 'a'.repeat(41);
    expect(parseToken(`0-${UUID}.${secret}`, PARTITIONS)?.secret).toBe(secret);
  });

  it.each([undefined, null, 42, {}, ['0-' + UUID + '.' + SECRET], Symbol('t')])(
    'rejects the non-string %p',
    (value) => {
      expect(parseToken(value, PARTITIONS)).toBeNull();
    },
  );

  it('accepts the highest partition and rejects partition === partitions', () => {
    expect(parseToken(`15-${UUID}.${SECRET}`, 16)?.partition).toBe(15);
    expect(parseToken(`16-${UUID}.${SECRET}`, 16)).toBeNull();
    expect(parseToken(`1000-${UUID}.${SECRET}`, 16)).toBeNull();
  });

  it('rejects a partition with leading zeros', () => {
    expect(parseToken(`07-${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
    expect(parseToken(`00-${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
  });

  it('rejects a negative or five-digit partition', () => {
    expect(parseToken(`-1-${UUID}.${SECRET}`, 1024)).toBeNull();
    expect(parseToken(`10000-${UUID}.${SECRET}`, 1024)).toBeNull();
  });

  it('rejects a token without a dot', () => {
    expect(parseToken(`1-${UUID}${SECRET}`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${UUID}`, PARTITIONS)).toBeNull();
  });

  it('rejects a token with extra dots', () => {
    expect(parseToken(`1-${UUID}.${SECRET}.`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${UUID}..${SECRET}`, PARTITIONS)).toBeNull();
    expect(
      parseToken(`1-${UUID}.${SECRET.slice(0, 20)}.${SECRET.slice(21)}`, PARTITIONS),
    ).toBeNull();
  });

  it('rejects a secret of 42 or 44 characters', () => {
    expect(parseToken(`1-${UUID}.${SECRET.slice(1)}`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${UUID}.${SECRET}A`, PARTITIONS)).toBeNull();
  });

  it('rejects base64 (not base64url) characters and padding in the secret', () => {
    expect(parseToken(`1-${UUID}.${'+'.repeat(43)}`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${UUID}.${'/'.repeat(43)}`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${UUID}.${'A'.repeat(42)}=`, PARTITIONS)).toBeNull();
  });

  it('rejects a uuid that is not version 4 or not RFC 4122 variant', () => {
    const v1 = '3f2b8c1e-9a4d-1c7b-8e21-5d6f7a8b9c0d';
    const badVariant = '3f2b8c1e-9a4d-4c7b-ce21-5d6f7a8b9c0d';
    expect(parseToken(`1-${v1}.${SECRET}`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${badVariant}.${SECRET}`, PARTITIONS)).toBeNull();
  });

  it('rejects an upper-case uuid', () => {
    expect(parseToken(`1-${UUID.toUpperCase()}.${SECRET}`, PARTITIONS)).toBeNull();
  });

  it('rejects a session id without a partition', () => {
    expect(parseToken(`${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
  });

  it('rejects unicode lookalikes in the partition, uuid and secret', () => {
    // U+0661 ARABIC-INDIC DIGIT ONE, U+FF11 FULLWIDTH DIGIT ONE
    expect(parseToken(`\u0661-${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
    expect(parseToken(`\uff11-${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
    // U+0430 CYRILLIC SMALL LETTER A in the uuid
    expect(parseToken(`1-${UUID.replace('a', '\u0430')}.${SECRET}`, PARTITIONS)).toBeNull();
    // U+0410 CYRILLIC CAPITAL LETTER A in the secret
    expect(parseToken(`1-${UUID}.\u0410${SECRET.slice(1)}`, PARTITIONS)).toBeNull();
    // U+2024 ONE DOT LEADER instead of the dot
    expect(parseToken(`1-${UUID}\u2024${SECRET}`, PARTITIONS)).toBeNull();
  });

  it('rejects surrounding whitespace', () => {
    expect(parseToken(` 1-${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
    expect(parseToken(`1-${UUID}.${SECRET}\n`, PARTITIONS)).toBeNull();
  });

  it('rejects a string over 100 characters before parsing it', () => {
    expect(parseToken(`1-${UUID}.${SECRET}${'A'.repeat(60)}`, PARTITIONS)).toBeNull();
    expect(parseToken('x'.repeat(10_000), PARTITIONS)).toBeNull();
  });

  it('rejects the empty string', () => {
    expect(parseToken('', PARTITIONS)).toBeNull();
  });
});

describe('parseSessionId', () => {
  it('returns the partition of a well-formed id', () => {
    expect(parseSessionId(`9-${UUID}`, PARTITIONS)).toBe(9);
    expect(parseSessionId(`1023-${UUID}`, 1024)).toBe(1023);
  });

  it('returns null for non-strings, wrong partition, leading zeros and a trailing secret', () => {
    expect(parseSessionId(9, PARTITIONS)).toBeNull();
    expect(parseSessionId(`16-${UUID}`, PARTITIONS)).toBeNull();
    expect(parseSessionId(`09-${UUID}`, PARTITIONS)).toBeNull();
    expect(parseSessionId(`9-${UUID}.${SECRET}`, PARTITIONS)).toBeNull();
  });
});

describe('hashSecret', () => {
  it('is the lower-case hex SHA-256 of the secret', () => {
    expect(hashSecret('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hashSecret(SECRET)).toBe(createHash('sha256').update(SECRET).digest('hex'));
    expect(hashSecret(SECRET)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives different digests for different secrets', () => {
    expect(hashSecret('a')).not.toBe(hashSecret('b'));
  });
});

describe('safeEqual', () => {
  it('is true for identical strings, including the empty string', () => {
    expect(safeEqual('csrf-token', 'csrf-token')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
  });

  it('is false for strings differing in one character, case or length', () => {
    expect(safeEqual('csrf-token', 'csrf-tokem')).toBe(false);
    expect(safeEqual('abc', 'ABC')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abc', '')).toBe(false);
  });

  it('distinguishes unicode strings that differ only in normalization', () => {
    expect(safeEqual('\u00e9', 'e\u0301')).toBe(false);
  });
});
