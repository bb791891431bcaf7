import {
  ForbiddenSessionDataError,
  InvalidSessionDataError,
  InvalidSessionIdError,
  InvalidSessionMetaError,
  InvalidTokenError,
  InvalidUserIdError,
  SessionDataTooLargeError,
  SessionNotFoundError,
  type SessionData,
} from '@app/session';
import {
  allKeys,
  createSessionFixture,
  otherSessionId,
  readAllEvents,
  type SessionFixture,
} from './session-fixture';

describe('Bad input gets a typed error and writes nothing', () => {
  let fx: SessionFixture;
  beforeAll(async () => {
    fx = await createSessionFixture('bad-input');
  });
  afterAll(() => fx.close());

  /** Runs a call that must fail and checks that no key or event appeared. */
  async function expectNothingWritten(
    call: () => Promise<unknown>,
    error: new (...args: never[]) => Error,
  ) {
    const keysBefore = await allKeys(fx);
    const eventsBefore = (await readAllEvents(fx)).length;
    await expect(call()).rejects.toBeInstanceOf(error);
    expect(await allKeys(fx)).toEqual(keysBefore);
    expect((await readAllEvents(fx)).length).toBe(eventsBefore);
  }

  it.each<[string, unknown]>([
    ['empty', ''],
    ['over 256 bytes', 'x'.repeat(257)],
    ['over 256 UTF-8 bytes though 129 characters', 'é'.repeat(129)],
    ['a control character', 'a\nb'],
    ['a number', 42],
    ['null', null],
    ['an object', { id: 'x' }],
  ])('create refuses a user id that is %s', async (_, userId) => {
    await expectNothingWritten(() => fx.service.create(userId as string), InvalidUserIdError);
  });

  it('accepts unicode user ids and data, and returns them exactly', async () => {
    const userId = 'Zoë 🦊 用户';
    const data = {
      name: 'Zoë 🦊',
      emoji: '👩‍💻',
      big: 9007199254740991,
      neg: -0.5,
      empty: [],
      nested: { a: [] },
    };
    const created = await fx.service.create(userId, data);
    const session = await fx.service.validate(created.token);
    expect(session).toMatchObject({ userId, data });
  });

  it.each([
    [{ password: 'hunter2' }, 'password'],
    [{ Pass_Word: 'x' }, 'Pass_Word'],
    [{ profile: { newPassword: 'x' } }, 'profile.newPassword'],
    [{ cards: [{ 'credit-card': '4111111111111111' }] }, 'cards[0].credit-card'],
    [{ CVV: '123' }, 'CVV'],
  ])('create refuses forbidden data %j', async (data, path) => {
    await expectNothingWritten(() => fx.service.create('alice', data), ForbiddenSessionDataError);
    await expect(fx.service.create('alice', data as SessionData)).rejects.toMatchObject({ path });
  });

  it.each([
    ['a function', { f: () => 1 }],
    ['a Date', { d: new Date() }],
    ['NaN', { n: Number.NaN }],
    ['a BigInt', { b: BigInt(1) }],
    ['an array at the top level', [1, 2]],
    ['a string', 'data'],
    ['a __proto__ key', JSON.parse('{"__proto__": {"admin": true}}')],
  ])('create refuses %s as data', async (_, data) => {
    await expectNothingWritten(
      () => fx.service.create('alice', data as SessionData),
      InvalidSessionDataError,
    );
  });

  it('create refuses data over the size limit, counted in UTF-8 bytes', async () => {
    await expectNothingWritten(
      () => fx.service.create('alice', { blob: 'x'.repeat(5000) }),
      SessionDataTooLargeError,
    );
    await expectNothingWritten(
      () => fx.service.create('alice', { blob: '€'.repeat(1400) }),
      SessionDataTooLargeError,
    );
  });

  it('update refuses a patch that would make the merged data too large, and keeps the old data', async () => {
    const created = await fx.service.create('bob', { a: 'x'.repeat(3000) });
    await expectNothingWritten(
      () => fx.service.update(created.sessionId, { b: 'y'.repeat(1500) }),
      SessionDataTooLargeError,
    );
    expect((await fx.service.validate(created.token))?.data).toEqual({ a: 'x'.repeat(3000) });
    // Replacing the big value with a small one frees the room again.
    expect(await fx.service.update(created.sessionId, { a: 'small', b: 'y'.repeat(1500) })).toEqual(
      { a: 'small', b: 'y'.repeat(1500) },
    );
  });

  it('update refuses forbidden keys, empty patches and unknown sessions', async () => {
    const created = await fx.service.create('carol');
    await expectNothingWritten(
      () => fx.service.update(created.sessionId, { password: 'x' }),
      ForbiddenSessionDataError,
    );
    await expectNothingWritten(
      () => fx.service.update(created.sessionId, {}),
      InvalidSessionDataError,
    );
    await expectNothingWritten(
      () => fx.service.update(otherSessionId(created.sessionId), { a: 1 }),
      SessionNotFoundError,
    );
    await expectNothingWritten(
      () => fx.service.update('not-an-id', { a: 1 }),
      InvalidSessionIdError,
    );
  });

  it('update of a revoked session is refused and writes nothing', async () => {
    const created = await fx.service.create('dave');
    await fx.service.revokeAllForUser('dave');
    await expectNothingWritten(
      () => fx.service.update(created.sessionId, { a: 1 }),
      SessionNotFoundError,
    );
  });

  const handle = '0-00000000-0000-4000-8000-000000000000';
  it.each([
    ['empty', ''],
    ['no handle', 'abc'],
    ['100,000 characters', 'x'.repeat(100_000)],
    ['a handle without secret', handle],
    ['a partition out of range', `99-00000000-0000-4000-8000-000000000000.${'a'.repeat(43)}`],
    ['a zero-padded partition', `00-00000000-0000-4000-8000-000000000000.${'a'.repeat(43)}`],
    ['a short secret', `${handle}.${'a'.repeat(42)}`],
    ['base64 padding', `${handle}.${'a'.repeat(42)}=`],
    ['Cyrillic lookalikes', `${handle}.${'а'.repeat(43)}`],
    ['a trailing segment', `${handle}.${'a'.repeat(43)}.x`],
  ])('verify calls a token with %s malformed without asking Redis', async (_, token) => {
    const calls: string[] = [];
    const monitor = await fx.redis.monitor();
    // The ping, and this fixture's commands (its keys carry its prefix): other suites share
    // the server.
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0].toLowerCase() === 'ping' || args.some((arg) => arg.startsWith(fx.prefix)))
        calls.push(args[0]);
    });
    expect(await fx.service.verify(token)).toEqual({ valid: false, reason: 'malformed' });
    await fx.redis.ping(); // the monitor sees this; anything verify sent would come before it
    await new Promise((resolve) => setTimeout(resolve, 20));
    monitor.disconnect();
    expect(calls.map((c) => c.toLowerCase())).toContain('ping');
    expect(calls.filter((c) => /^(evalsha|eval|hgetall)$/i.test(c))).toEqual([]);
  });

  it.each([undefined, null, 42, {}, ['a']])(
    'verify treats the non-string %p as malformed',
    async (token) => {
      expect(await fx.service.verify(token)).toEqual({ valid: false, reason: 'malformed' });
    },
  );

  it('rotate of a malformed token is a typed error', async () => {
    await expectNothingWritten(() => fx.service.rotate('nope'), InvalidTokenError);
  });

  it('refuses an over-long ip or device label but trims an over-long user agent', async () => {
    await expectNothingWritten(
      () => fx.service.create('erin', {}, { ip: '1'.repeat(65) }),
      InvalidSessionMetaError,
    );
    await expectNothingWritten(
      () => fx.service.create('erin', {}, { deviceLabel: 5 as unknown as string }),
      InvalidSessionMetaError,
    );
    const created = await fx.service.create('erin', {}, { userAgent: 'U'.repeat(10_000) });
    expect((await fx.service.validate(created.token))?.userAgent).toHaveLength(512);
  });

  it('revoke of an unknown or malformed id answers false or a typed error, never deletes anything', async () => {
    const created = await fx.service.create('frank');
    expect(await fx.service.revoke(otherSessionId(created.sessionId))).toBe(false);
    await expectNothingWritten(() => fx.service.revoke('../../etc/passwd'), InvalidSessionIdError);
    expect(await fx.service.validate(created.token)).not.toBeNull();
  });
});
