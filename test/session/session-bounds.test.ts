import {
  ForbiddenSessionDataError,
  ServerOwnedSessionDataError,
  SessionDataTooLargeError,
  SessionDataTooManyKeysError,
  type SessionData,
} from '@app/session';
import { formatToken, hashSecret, newSecret, newSessionId } from '@app/session/token';
import { RedisServerProcess } from '../support/redis-server-process';
import { createSessionFixture, readAllEvents, sleep, type SessionFixture } from './session-fixture';

const keysOf = (n: number, value: unknown, prefix = 'k') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value])) as SessionData;

async function usedMemory(fx: SessionFixture): Promise<number> {
  const info = await fx.redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function streamLength(fx: SessionFixture, userId: string): Promise<number> {
  return fx.redis.xlen(fx.service.keys.events(fx.service.keys.partitionOf(userId)));
}

describe('A client cannot make Redis store more than the data limits (issue 11, item 1)', () => {
  // A private Redis, so used_memory measures only what these writes keep.
  let server: RedisServerProcess;
  let fx: SessionFixture;
  beforeAll(async () => {
    server = await RedisServerProcess.start();
    fx = await createSessionFixture('bounds', { redisUrl: server.url });
  });
  afterAll(async () => {
    await fx?.close();
    await server?.stop();
  });

  it('refuses 1,000 hostile patches with typed errors; Redis grows by under 64 KiB, the stream not at all', async () => {
    const { sessionId } = await fx.service.create('mallory', { theme: 'dark' });
    await fx.service.update(sessionId, { warm: 1 }); // scripts loaded, stream created
    const memoryBefore = await usedMemory(fx);
    const lengthBefore = await streamLength(fx, 'mallory');
    const hostile: [SessionData, new (...args: never[]) => Error][] = [
      [keysOf(300, null), SessionDataTooManyKeysError], // deletions used to count 0 bytes
      [keysOf(500, 'x'), SessionDataTooManyKeysError],
      [{ big: 'x'.repeat(5000) }, SessionDataTooLargeError],
      [keysOf(60, null, 'x'.repeat(120)), SessionDataTooLargeError], // 60 × 125 bytes of nulls
    ];
    const refused = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const [patch, error] = hostile[i % hostile.length];
      const failure = await fx.service.update(sessionId, patch).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(error);
      refused.set(error.name, (refused.get(error.name) ?? 0) + 1);
    }
    const grown = (await usedMemory(fx)) - memoryBefore;
    const streamGrown = (await streamLength(fx, 'mallory')) - lengthBefore;
    console.log(
      `1,000 hostile patches: ${JSON.stringify(Object.fromEntries(refused))}, ` +
        `used_memory +${grown} bytes, stream +${streamGrown} entries`,
    );
    expect(streamGrown).toBe(0);
    expect(grown).toBeLessThan(64 * 1024);
  });

  it('appends no event and publishes nothing for 1,000 patches that change nothing', async () => {
    const { sessionId } = await fx.service.create('nobody', { theme: 'dark' });
    const lengthBefore = await streamLength(fx, 'nobody');
    const memoryBefore = await usedMemory(fx);
    for (let i = 0; i < 1000; i++) {
      // 63 deletions of absent keys and one key set to the value it holds: allowed, but no change.
      const data = await fx.service.update(sessionId, { ...keysOf(63, null), theme: 'dark' });
      expect(data).toEqual({ theme: 'dark' });
    }
    const grown = (await usedMemory(fx)) - memoryBefore;
    console.log(`1,000 no-op patches: used_memory +${grown} bytes`);
    expect(await streamLength(fx, 'nobody')).toBe(lengthBefore);
    expect(grown).toBeLessThan(64 * 1024);
  });
});

describe('Session data and event bounds against real Redis', () => {
  let fx: SessionFixture;
  beforeAll(async () => {
    fx = await createSessionFixture('data-bounds', { streamMaxLength: 100 });
  });
  afterAll(() => fx.close());

  it('names only the keys that changed in session.updated', async () => {
    const { sessionId } = await fx.service.create('erin', { same: 1, gone: true });
    await fx.service.update(sessionId, { added: 'x', same: 1, gone: null, absent: null });
    const updated = (await readAllEvents(fx)).filter(
      (e) => e.pattern === 'session.updated' && e.data.sessionId === sessionId,
    );
    expect(updated.map((e) => e.data.keys)).toEqual([['added', 'gone']]);
  });

  it('publishes no invalidation for a patch that changes nothing, one for a change', async () => {
    const { sessionId } = await fx.service.create('uma', { theme: 'dark' });
    const subscriber = fx.redis.duplicate();
    const heard: string[] = [];
    try {
      subscriber.on('message', (_channel: string, message: string) => heard.push(message));
      await subscriber.subscribe(fx.service.keys.invalidationChannel());
      await fx.service.update(sessionId, { theme: 'dark', absent: null });
      await fx.service.update(sessionId, { theme: 'light' });
      await fx.redis.publish(fx.service.keys.invalidationChannel(), 'marker');
      for (let i = 0; i < 100 && !heard.includes('marker'); i++) await sleep(10);
    } finally {
      subscriber.disconnect();
    }
    const mine = heard.filter((m) => m.includes(sessionId));
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0])).toMatchObject({ k: 'changed', id: sessionId });
  });

  it('bounds session.updated by the data limits: the largest patch makes an event of ~maxDataBytes', async () => {
    const key = (i: number) => `${'k'.repeat(58)}${String(i).padStart(2, '0')}`;
    const data = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [key(i), 1]));
    const { sessionId } = await fx.service.create('vera', data);
    // 64 keys of 60 characters, half deletions: 32 × (60 + 4) + 32 × (60 + 4) = 4096 bytes.
    const patch: SessionData = {};
    for (let i = 0; i < 64; i++) patch[key(i)] = i < 32 ? null : 1000;
    await fx.service.update(sessionId, patch);
    patch[key(0)] = 10_000; // one byte more
    await expect(fx.service.update(sessionId, patch)).rejects.toBeInstanceOf(
      SessionDataTooLargeError,
    );
    const [event] = (await readAllEvents(fx)).filter(
      (e) => e.pattern === 'session.updated' && e.data.sessionId === sessionId,
    );
    const size = Buffer.byteLength(JSON.stringify(event.data));
    console.log(`session.updated of the largest patch (64 keys, 4096 bytes): ${size} bytes`);
    expect(event.data.keys).toHaveLength(64);
    expect(size).toBeLessThan(4096 + 512);
  });

  it('caps the keys of a session at maxDataKeys (64), counting what is stored', async () => {
    const { sessionId, token } = await fx.service.create('frank', keysOf(64, 1));
    await expect(fx.service.update(sessionId, { extra: 1 })).rejects.toBeInstanceOf(
      SessionDataTooManyKeysError,
    );
    // Swapping one key for another keeps 64: allowed.
    await fx.service.update(sessionId, { k0: null, extra: 1 });
    const session = await fx.service.validate(token);
    expect(Object.keys(session!.data)).toHaveLength(64);
    expect(session!.data.extra).toBe(1);
  });

  it('refuses initial data over maxDataKeys at create', async () => {
    await expect(fx.service.create('gina', keysOf(65, 1))).rejects.toBeInstanceOf(
      SessionDataTooManyKeysError,
    );
  });

  it('keeps each stream near streamMaxLength (MAXLEN ~) whatever the write rate', async () => {
    const { sessionId } = await fx.service.create('hank');
    for (let i = 0; i < 600; i++) await fx.service.update(sessionId, { n: i });
    const length = await fx.redis.xlen(fx.service.keys.events(fx.service.keys.partitionOf('hank')));
    console.log(`600 updates with streamMaxLength 100: XLEN ${length}`);
    // Approximate trimming removes whole stream nodes (100 entries by default).
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(200);
  });
});

describe('Server-owned keys (issue 11, item 6)', () => {
  let fx: SessionFixture;
  beforeAll(async () => {
    fx = await createSessionFixture('server-owned', { serverOwnedDataKeys: ['roles', 'tenant'] });
  });
  afterAll(() => fx.close());

  it('create() sets them, update() refuses them and writes nothing', async () => {
    const { sessionId, token } = await fx.service.create('ivan', { roles: ['user'], tenant: 't1' });
    for (const patch of [
      { roles: ['admin'] },
      { Roles: ['admin'] },
      { tenant: null },
    ] as SessionData[]) {
      await expect(fx.service.update(sessionId, patch)).rejects.toBeInstanceOf(
        ServerOwnedSessionDataError,
      );
    }
    expect((await fx.service.validate(token))!.data).toEqual({ roles: ['user'], tenant: 't1' });
  });

  it('updateServerOwned() changes them (and still refuses secrets)', async () => {
    const { sessionId, token } = await fx.service.create('judy', { roles: ['user'] });
    await fx.service.updateServerOwned(sessionId, { roles: ['user', 'admin'] });
    expect((await fx.service.validate(token))!.data.roles).toEqual(['user', 'admin']);
    await expect(fx.service.updateServerOwned(sessionId, { password: 'x' })).rejects.toBeInstanceOf(
      ForbiddenSessionDataError,
    );
  });
});

describe('Forbidden keys and card numbers through the service (issue 11, item 9)', () => {
  let fx: SessionFixture;
  beforeAll(async () => {
    fx = await createSessionFixture('forbidden');
  });
  afterAll(() => fx.close());

  it.each<SessionData>([
    { 'pass.word': 'x' },
    { 'pass\u200bword': 'x' },
    { ｐａｓｓｗｏｒｄ: 'x' },
    { pwd: 'x' },
    { pin: '1234' },
    { cvv: '123' },
    { CVV2: '123' },
    { card_cvc: '123' },
    { cardNo: 'x' },
    { pan: 'x' },
    { secret: 'x' },
    { note: '4111 1111 1111 1111' },
    { order: { ref: '5555555555554444' } },
  ])('refuses %j at update and at create', async (patch) => {
    const { sessionId } = await fx.service.create('kate');
    await expect(fx.service.update(sessionId, patch)).rejects.toBeInstanceOf(
      ForbiddenSessionDataError,
    );
    await expect(fx.service.create('kate', patch)).rejects.toBeInstanceOf(
      ForbiddenSessionDataError,
    );
  });

  it('stores ordinary keys that contain short terms', async () => {
    const data = { company: 1, japan: 2, panel: 3, shipping: 4, spinner: 5, opinion: 6 };
    const { token } = await fx.service.create('liam', data);
    expect((await fx.service.validate(token))!.data).toEqual(data);
  });

  it('stores card-like values when refuseCardNumbers is off', async () => {
    const off = await createSessionFixture('cards-off', { refuseCardNumbers: false });
    try {
      const { token } = await off.service.create('mia', { note: '4111 1111 1111 1111' });
      expect((await off.service.validate(token))!.data.note).toBe('4111 1111 1111 1111');
    } finally {
      await off.close();
    }
  });
});

describe('Sessions stored by the previous release (same hash fields) keep working', () => {
  let fx: SessionFixture;
  beforeAll(async () => {
    fx = await createSessionFixture('legacy', { maxDataKeys: 8 });
  });
  afterAll(() => fx.close());

  /** Writes a session hash as the previous createSession did, with every optional field. */
  async function storeLegacySession(userId: string, dataKeys: number) {
    const partition = fx.service.keys.partitionOf(userId);
    const sessionId = newSessionId(partition);
    const secret = newSecret();
    const now = Number((await fx.redis.time())[0]) * 1000;
    const data: Record<string, string> = {};
    for (let i = 0; i < dataKeys; i++) data[`d:k${i}`] = String(i);
    const bytes = Object.entries(data).reduce((sum, [f, v]) => sum + f.length - 2 + v.length, 0);
    const key = fx.service.keys.session(sessionId, partition);
    await fx.redis.hset(key, {
      uid: userId,
      sh: hashSecret(secret),
      csrf: newSecret(),
      ca: now,
      la: now,
      it: 3_600_000,
      ax: now + 86_400_000,
      db: bytes,
      kt: 0,
      ua: 'curl',
      ip: '203.0.113.7',
      dev: 'laptop',
      ...data,
    });
    await fx.redis.pexpire(key, 3_600_000);
    return { sessionId, token: formatToken(sessionId, secret) };
  }

  it('validates, counts its keys exactly (optional fields are not data) and rotates', async () => {
    const { sessionId, token } = await storeLegacySession('nina', 7);
    expect(Object.keys((await fx.service.validate(token))!.data)).toHaveLength(7);
    await fx.service.update(sessionId, { k7: 7 }); // 8 keys: the limit
    await expect(fx.service.update(sessionId, { k8: 8 })).rejects.toBeInstanceOf(
      SessionDataTooManyKeysError,
    );
    const rotated = await fx.service.rotate(token);
    const session = await fx.service.validate(rotated.token);
    expect(Object.keys(session!.data)).toHaveLength(8);
    expect(session!.userAgent).toBe('curl');
  });

  it('lets a session above the key limit shrink, never grow', async () => {
    const { sessionId } = await storeLegacySession('omar', 20);
    await expect(fx.service.update(sessionId, { extra: 1 })).rejects.toBeInstanceOf(
      SessionDataTooManyKeysError,
    );
    const data = await fx.service.update(sessionId, { k0: null, k1: null, extra: 1 });
    expect(Object.keys(data)).toHaveLength(19);
  });
});
