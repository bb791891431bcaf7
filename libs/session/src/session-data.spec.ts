import {
  ForbiddenSessionDataError,
  InvalidSessionDataError,
  InvalidSessionMetaError,
  ServerOwnedSessionDataError,
  SessionDataTooLargeError,
  SessionDataTooManyKeysError,
} from './errors';
import {
  type DataRules,
  DATA_FIELD_PREFIX,
  decodeData,
  encodeDataPatch,
  encodeInitialData,
  entrySize,
  normalizeMeta,
} from './session-data';
import { DEFAULT_FORBIDDEN_DATA_KEYS } from './forbidden-data';

const FORBIDDEN = DEFAULT_FORBIDDEN_DATA_KEYS;
const MAX = 4096;

/** The default rules, with the given forbidden terms, byte limit and overrides. */
function rules(
  forbiddenKeys: readonly string[] = FORBIDDEN,
  maxBytes = MAX,
  more: Partial<DataRules> = {},
): DataRules {
  return {
    forbiddenKeys,
    maxBytes,
    refuseCardNumbers: true,
    maxKeys: 64,
    serverOwned: [],
    ...more,
  };
}

function encode(patch: unknown, maxBytes = MAX) {
  return encodeDataPatch(patch, rules(FORBIDDEN, maxBytes));
}

/** Returns the error thrown by `fn` (fails the test when nothing is thrown). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Stores a patch's fields the way the hash would hold them, then decodes them. */
function roundTrip(data: Record<string, unknown>) {
  const { fields } = encodeInitialData(data, rules(FORBIDDEN, 1_048_576));
  const hash: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) hash[fields[i]] = fields[i + 1];
  return decodeData(hash);
}

function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('encodeDataPatch forbidden keys', () => {
  it.each([
    'password',
    'PASSWORD',
    'Password',
    'newPassword',
    'password_confirmation',
    'pass_word',
    'pass-word',
    'pass word',
    'Credit_Card',
    'credit-card',
    'creditCardNumber',
    'card number',
    'CVV',
    'cvc2',
    'security_code',
    'passphrase',
    'passwd',
    'cc_number',
  ])('refuses top-level key %j with ForbiddenSessionDataError naming it', (key) => {
    const error = thrown(() => encode({ [key]: 'x' }));
    expect(error).toBeInstanceOf(ForbiddenSessionDataError);
    expect((error as ForbiddenSessionDataError).path).toBe(key);
    expect((error as Error).message).toContain(`"${key}"`);
  });

  it('refuses a forbidden key nested in an object, with its dotted path', () => {
    const error = thrown(() => encode({ profile: { billing: { cardNumber: '4111' } } }));
    expect(error).toBeInstanceOf(ForbiddenSessionDataError);
    expect((error as ForbiddenSessionDataError).path).toBe('profile.billing.cardNumber');
  });

  it('refuses a forbidden key inside an array element, with its index in the path', () => {
    const error = thrown(() => encode({ accounts: [{ id: 1 }, { id: 2, Password: 'x' }] }));
    expect(error).toBeInstanceOf(ForbiddenSessionDataError);
    expect((error as ForbiddenSessionDataError).path).toBe('accounts[1].Password');
  });

  it('refuses the forbidden key even when its value is null (a deletion)', () => {
    expect(() => encode({ password: null })).toThrow(ForbiddenSessionDataError);
  });

  it('does not look at string values, only keys', () => {
    expect(encode({ hint: 'password' }).keys).toEqual(['hint']);
  });

  it('allows keys that only resemble forbidden ones', () => {
    expect(encode({ pass: 1, card: 2, word: 3, cv: 4 }).keys).toEqual([
      'pass',
      'card',
      'word',
      'cv',
    ]);
  });

  it('uses the forbidden list it is given', () => {
    expect(() => encodeDataPatch({ ssn: '1' }, rules(['ssn']))).toThrow(ForbiddenSessionDataError);
    expect(encodeDataPatch({ password: '1' }, rules([])).keys).toEqual(['password']);
  });
});

describe('encodeDataPatch reserved and malformed keys', () => {
  it('refuses an own `__proto__` key (as JSON.parse creates it) at the top level', () => {
    const patch: unknown = JSON.parse('{"__proto__": {"isAdmin": true}}');
    const error = thrown(() => encode(patch));
    expect(error).toBeInstanceOf(InvalidSessionDataError);
    expect((error as Error).message).toContain('reserved');
  });

  it('refuses a nested `__proto__` key', () => {
    const patch: unknown = JSON.parse('{"a": {"__proto__": {"x": 1}}}');
    expect(() => encode(patch)).toThrow(/"a\.__proto__" is reserved/);
  });

  it('refuses `constructor` and `prototype` keys', () => {
    expect(() => encode({ constructor: 1 })).toThrow(InvalidSessionDataError);
    expect(() => encode({ a: { prototype: 1 } })).toThrow(InvalidSessionDataError);
  });

  it('refuses an empty key and a key over 128 characters, accepts exactly 128', () => {
    expect(() => encode({ '': 1 })).toThrow(InvalidSessionDataError);
    expect(() => encode({ ['k'.repeat(129)]: 1 })).toThrow(InvalidSessionDataError);
    expect(() => encode({ a: { ['k'.repeat(129)]: 1 } })).toThrow(InvalidSessionDataError);
    expect(encode({ ['k'.repeat(128)]: 1 }).keys).toEqual(['k'.repeat(128)]);
  });
});

describe('encodeDataPatch value types', () => {
  it.each([
    ['a function', () => 1],
    ['a Date', new Date(0)],
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a BigInt', BigInt(1)],
    ['a Symbol', Symbol('s')],
    ['a RegExp', /x/],
    ['a class instance', new (class Point {})()],
    ['a Buffer', Buffer.from('x')],
  ])('refuses %s with InvalidSessionDataError', (_label, value) => {
    expect(() => encode({ v: value })).toThrow(InvalidSessionDataError);
    expect(() => encode({ v: { inner: [value] } })).toThrow(InvalidSessionDataError);
  });

  it('refuses undefined inside an array (JSON.stringify would turn it into null)', () => {
    const error = thrown(() => encode({ list: [1, undefined, 3] }));
    expect(error).toBeInstanceOf(InvalidSessionDataError);
    expect((error as Error).message).toContain('list[1]');
  });

  it('refuses undefined nested in an object', () => {
    expect(() => encode({ a: { b: undefined } })).toThrow(InvalidSessionDataError);
  });

  it('ignores a top-level undefined value', () => {
    expect(encode({ a: undefined, b: 1 })).toEqual({ fields: ['d:b', '1'], keys: ['b'], bytes: 2 });
  });

  it('names the path of the bad value in the message', () => {
    expect(() => encode({ a: { b: [0, Number.NaN] } })).toThrow(/"a\.b\[1\]" is not a finite/);
  });

  it('accepts strings, booleans, finite numbers, null, arrays and null-prototype objects', () => {
    const bare = Object.assign(Object.create(null) as object, { x: 1 });
    const patch = { s: 'x', t: true, f: false, n: -1.5, z: 0, arr: [1, 'a', null], obj: bare };
    expect(encode(patch).keys).toEqual(['s', 't', 'f', 'n', 'z', 'arr', 'obj']);
  });

  it.each([
    ['null', null],
    ['an array', [1]],
    ['a string', 'x'],
    ['a Date', new Date()],
    ['undefined', undefined],
  ])('refuses %s as the patch itself', (_label, patch) => {
    expect(() => encode(patch)).toThrow(InvalidSessionDataError);
  });
});

describe('encodeDataPatch depth limit', () => {
  it('accepts a value nested 31 levels below its key', () => {
    expect(encode({ deep: nested(31) }).keys).toEqual(['deep']);
  });

  it('refuses a value nested 32 levels below its key', () => {
    expect(() => encode({ deep: nested(32) })).toThrow(/nested too deeply/);
  });

  it('counts object nesting as well as array nesting', () => {
    let value: unknown = 0;
    for (let i = 0; i < 40; i++) value = { k: value };
    expect(() => encode({ deep: value })).toThrow(InvalidSessionDataError);
  });
});

describe('encodeDataPatch encoding and size', () => {
  it('encodes each top-level key as a `d:<key>` field holding its JSON', () => {
    expect(encode({ theme: 'dark', cart: { items: [1, 2] } })).toEqual({
      fields: ['d:theme', '"dark"', 'd:cart', '{"items":[1,2]}'],
      keys: ['theme', 'cart'],
      bytes: 'theme'.length + '"dark"'.length + 'cart'.length + '{"items":[1,2]}'.length,
    });
    expect(DATA_FIELD_PREFIX).toBe('d:');
  });

  it('encodes null as an empty value (delete) that counts 0 bytes', () => {
    expect(encode({ theme: null, lang: 'en' })).toEqual({
      fields: ['d:theme', '', 'd:lang', '"en"'],
      keys: ['theme', 'lang'],
      bytes: 'lang'.length + '"en"'.length,
    });
  });

  it('counts UTF-8 bytes, not characters, of key and JSON', () => {
    expect(entrySize('é', '"é"')).toBe(2 + 4);
    expect(entrySize('k', '"😀"')).toBe(1 + 6);
    expect(encode({ ключ: 'значение' }).bytes).toBe(8 + (16 + 2));
  });

  it('accepts data of exactly maxBytes and refuses one byte more', () => {
    // key "k" (1 byte) + JSON "\"...\"" (2 quotes + n bytes)
    expect(encode({ k: 'x'.repeat(13) }, 16).bytes).toBe(16);
    const error = thrown(() => encode({ k: 'x'.repeat(14) }, 16));
    expect(error).toBeInstanceOf(SessionDataTooLargeError);
    expect(error).toMatchObject({ size: 17, limit: 16 });
  });

  it('refuses multi-byte data that fits in characters but not in bytes', () => {
    // 10 characters of 3 bytes each: 1 + 2 + 30 = 33 bytes, only 13 characters.
    expect(() => encode({ k: '€'.repeat(10) }, 32)).toThrow(SessionDataTooLargeError);
    expect(encode({ k: '€'.repeat(10) }, 33).bytes).toBe(33);
  });

  it('sums the sizes of all keys of the patch', () => {
    expect(() => encode({ a: 'x'.repeat(10), b: 'y'.repeat(10) }, 20)).toThrow(
      SessionDataTooLargeError,
    );
    expect(encode({ a: 'x'.repeat(10), b: 'y'.repeat(10) }, 26).bytes).toBe(26);
  });
});

describe('encodeDataPatch bounds on deletions and key count', () => {
  const nulls = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, null]));

  it('refuses a patch of hundreds of deletions (they used to count 0 bytes and no keys)', () => {
    const error = thrown(() => encode(nulls(300)));
    expect(error).toBeInstanceOf(SessionDataTooManyKeysError);
    expect((error as SessionDataTooManyKeysError).keys).toBe(300);
    expect((error as SessionDataTooManyKeysError).limit).toBe(64);
  });

  it('counts a deletion as its key and `null` against the byte limit', () => {
    const key = 'k'.repeat(100);
    const patch = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [key + i, null]));
    // 10 × (101 + 4) = 1050 bytes of deletions.
    expect(() => encodeDataPatch(patch, rules(FORBIDDEN, 1049))).toThrow(SessionDataTooLargeError);
    expect(encodeDataPatch(patch, rules(FORBIDDEN, 1050)).bytes).toBe(0);
  });

  it('accepts exactly maxKeys keys and refuses one more', () => {
    expect(encodeDataPatch(nulls(8), rules(FORBIDDEN, MAX, { maxKeys: 8 })).keys).toHaveLength(8);
    expect(() => encodeDataPatch(nulls(9), rules(FORBIDDEN, MAX, { maxKeys: 8 }))).toThrow(
      SessionDataTooManyKeysError,
    );
  });

  it('does not count undefined values as keys', () => {
    const patch = {
      ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`u${i}`, undefined])),
      a: 1,
    };
    expect(encodeDataPatch(patch, rules(FORBIDDEN, MAX, { maxKeys: 1 })).keys).toEqual(['a']);
  });
});

describe('encodeDataPatch server-owned keys', () => {
  const owned = rules(FORBIDDEN, MAX, { serverOwned: ['roles'] });

  it.each(['roles', 'Roles', 'ROLES', 'ro_les', 'ｒｏｌｅｓ'])('refuses top-level %j', (key) => {
    const error = thrown(() => encodeDataPatch({ [key]: ['admin'] }, owned));
    expect(error).toBeInstanceOf(ServerOwnedSessionDataError);
    expect((error as ServerOwnedSessionDataError).key).toBe(key);
  });

  it('refuses deleting a server-owned key too', () => {
    expect(() => encodeDataPatch({ roles: null }, owned)).toThrow(ServerOwnedSessionDataError);
  });

  it('allows the same name nested (only the top level authorizes) and with no server-owned list', () => {
    expect(encodeDataPatch({ prefs: { roles: 1 } }, owned).keys).toEqual(['prefs']);
    expect(encodeDataPatch({ roles: ['admin'] }, rules()).keys).toEqual(['roles']);
  });
});

describe('encodeDataPatch card numbers in values', () => {
  it.each([
    [{ note: '4111 1111 1111 1111' }, 'note'],
    [{ billing: { card: '5555-5555-5555-4444' } }, 'billing.card'],
    [{ list: ['x', 'pay with 378282246310005'] }, 'list[1]'],
    [{ n: 4111111111111111 }, 'n'],
  ])('refuses %j at its path', (patch, path) => {
    const error = thrown(() => encode(patch));
    expect(error).toBeInstanceOf(ForbiddenSessionDataError);
    expect((error as ForbiddenSessionDataError).path).toBe(path);
    expect((error as ForbiddenSessionDataError).kind).toBe('value');
    expect((error as Error).message).toMatch(/card number/);
  });

  it('accepts them when refuseCardNumbers is off, and accepts ordinary long ids', () => {
    const patch = { note: '4111 1111 1111 1111' };
    expect(
      encodeDataPatch(patch, rules(FORBIDDEN, MAX, { refuseCardNumbers: false })).keys,
    ).toEqual(['note']);
    // String(3.301684385821647e89) holds a Luhn-valid Diners-like run after the decimal point.
    expect(encode({ big: 3.301684385821647e89 }).keys).toEqual(['big']);
    expect(encode({ at: 1764206917123, orderId: '1234567890123456789' }).keys).toEqual([
      'at',
      'orderId',
    ]);
  });
});

describe('encodeInitialData', () => {
  it('drops null keys instead of emitting deletions', () => {
    expect(encodeInitialData({ a: null, b: 1, c: null, d: 'x' }, rules(FORBIDDEN, MAX))).toEqual({
      fields: ['d:b', '1', 'd:d', '"x"'],
      keys: ['b', 'd'],
      bytes: 2 + 4,
    });
  });

  it('treats null or undefined data as empty', () => {
    const empty = { fields: [], keys: [], bytes: 0 };
    expect(encodeInitialData(undefined, rules(FORBIDDEN, MAX))).toEqual(empty);
    expect(encodeInitialData(null, rules(FORBIDDEN, MAX))).toEqual(empty);
  });

  it('applies the same validation as a patch', () => {
    expect(() => encodeInitialData({ password: 'x' }, rules(FORBIDDEN, MAX))).toThrow(
      ForbiddenSessionDataError,
    );
    expect(() => encodeInitialData([], rules(FORBIDDEN, MAX))).toThrow(InvalidSessionDataError);
    expect(() => encodeInitialData({ a: 'x'.repeat(20) }, rules(FORBIDDEN, 16))).toThrow(
      SessionDataTooLargeError,
    );
  });
});

describe('decodeData', () => {
  it('reads only `d:` fields and strips the prefix', () => {
    expect(decodeData({ uid: 'u1', sh: 'abc', 'd:theme': '"dark"', 'd:n': '3' })).toEqual({
      theme: 'dark',
      n: 3,
    });
  });

  it('returns an ordinary object', () => {
    const data = decodeData({ 'd:a': '1' });
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  });

  it('does not let a stored `__proto__` field change the prototype', () => {
    const data = decodeData({ 'd:__proto__': '{"polluted":true}' });
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect((data as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('round-trips arrays (including an empty one) as arrays', () => {
    const data = roundTrip({ empty: [], list: [1, [2, []], { a: [] }] });
    expect(data).toEqual({ empty: [], list: [1, [2, []], { a: [] }] });
    expect(Array.isArray(data.empty)).toBe(true);
  });

  it('round-trips an empty object as an object', () => {
    const data = roundTrip({ obj: {} });
    expect(data.obj).toEqual({});
    expect(Array.isArray(data.obj)).toBe(false);
  });

  it('round-trips large and fractional numbers exactly', () => {
    const numbers = {
      max: Number.MAX_SAFE_INTEGER,
      min: Number.MIN_SAFE_INTEGER,
      big: 1e21,
      huge: Number.MAX_VALUE,
      tiny: 5e-324,
      fraction: 0.1 + 0.2,
      ms: 1_735_689_600_123,
    };
    const data = roundTrip(numbers);
    for (const [key, value] of Object.entries(numbers)) expect(data[key]).toBe(value);
  });

  it('round-trips unicode strings and keys exactly', () => {
    const text = 'héllo 世界 😀 e\u0301 \u200b \u2028 "quoted" \\ \n\t';
    const data = roundTrip({ text, 'clé 🔑': 'v' });
    expect(data.text).toBe(text);
    expect(data['clé 🔑']).toBe('v');
  });

  it('round-trips booleans, null inside arrays and nested objects', () => {
    const value = { flags: [true, false, null], nested: { a: { b: 'c' } } };
    expect(roundTrip(value)).toEqual(value);
  });
});

describe('normalizeMeta', () => {
  it('returns empty strings for missing meta', () => {
    const empty = { userAgent: '', ip: '', deviceLabel: '' };
    expect(normalizeMeta(undefined)).toEqual(empty);
    expect(normalizeMeta(null)).toEqual(empty);
    expect(normalizeMeta({})).toEqual(empty);
    expect(normalizeMeta({ userAgent: null, ip: undefined })).toEqual(empty);
  });

  it('keeps given fields and ignores unknown ones', () => {
    expect(
      normalizeMeta({ userAgent: 'curl/8', ip: '10.0.0.1', deviceLabel: 'Laptop', extra: 'x' }),
    ).toEqual({ userAgent: 'curl/8', ip: '10.0.0.1', deviceLabel: 'Laptop' });
  });

  it('truncates a user agent longer than 512 characters to 512', () => {
    const meta = normalizeMeta({ userAgent: 'U'.repeat(2000) });
    expect(meta.userAgent).toBe('U'.repeat(512));
  });

  it('keeps a user agent of exactly 512 characters', () => {
    expect(normalizeMeta({ userAgent: 'U'.repeat(512) }).userAgent).toHaveLength(512);
  });

  it('refuses an ip longer than 64 characters and accepts exactly 64', () => {
    expect(() => normalizeMeta({ ip: '1'.repeat(65) })).toThrow(InvalidSessionMetaError);
    expect(() => normalizeMeta({ ip: '1'.repeat(65) })).toThrow(/"ip"/);
    expect(normalizeMeta({ ip: '1'.repeat(64) }).ip).toHaveLength(64);
  });

  it('refuses a device label longer than 128 characters and accepts exactly 128', () => {
    expect(() => normalizeMeta({ deviceLabel: 'd'.repeat(129) })).toThrow(/"deviceLabel"/);
    expect(normalizeMeta({ deviceLabel: 'd'.repeat(128) }).deviceLabel).toHaveLength(128);
  });

  it('refuses non-string fields, naming them', () => {
    expect(() => normalizeMeta({ ip: 127001 })).toThrow(InvalidSessionMetaError);
    expect(() => normalizeMeta({ userAgent: ['a'] })).toThrow(/"userAgent" must be a string/);
  });

  it('refuses meta that is not a plain object', () => {
    expect(() => normalizeMeta('curl/8')).toThrow(InvalidSessionMetaError);
    expect(() => normalizeMeta(['x'])).toThrow(InvalidSessionMetaError);
    expect(() => normalizeMeta(new Date())).toThrow(InvalidSessionMetaError);
  });
});
