import { randomBytes } from 'node:crypto';
import RedisStore from 'connect-redis';
import type { SessionData } from 'express-session';
import { createStoreFixture, expressSession, type StoreFixture } from './store-fixture';

const newSid = () => randomBytes(24).toString('base64url');

describe('express-session store: lazy migration from connect-redis', () => {
  let fixture: StoreFixture;
  let legacyPrefix: string;
  let legacy: RedisStore;

  beforeAll(async () => {
    fixture = await createStoreFixture('store-migration');
    legacyPrefix = `${fixture.prefix}:sess:`;
    legacy = new RedisStore({ client: fixture.redis, prefix: legacyPrefix });
  });
  afterAll(() => fixture.close());

  // connect-redis's methods return promises (and call an optional callback).
  const writeLegacy = (sid: string, data: Record<string, unknown>) =>
    legacy.set(sid, expressSession(data) as unknown as SessionData);

  it('moves a session connect-redis wrote on its first read, and deletes the old key', async () => {
    const { get, set } = fixture.expressStore({
      migrateFromConnectRedis: { prefix: legacyPrefix },
    });
    const sid = newSid();
    await writeLegacy(sid, { passport: { user: 'carol' }, theme: 'dark' });
    expect(await fixture.redis.exists(legacyPrefix + sid)).toBe(1);

    expect(await get(sid)).toMatchObject({ passport: { user: 'carol' }, theme: 'dark' });
    expect(await fixture.redis.exists(legacyPrefix + sid)).toBe(0);
    const key = (await fixture.sessionKeyOf(sid))!;
    expect(await fixture.redis.hget(key, 'uid')).toBe('carol');
    // From now on it is one of ours: changes, revoke-all.
    await set(sid, expressSession({ passport: { user: 'carol' }, theme: 'light' }));
    expect(await get(sid)).toMatchObject({ theme: 'light' });
    await fixture.service.revokeAllForUser('carol');
    expect(await get(sid)).toBeNull();
  });

  it('migrates once when two instances read the same old session at the same time', async () => {
    const options = { migrateFromConnectRedis: { prefix: legacyPrefix } };
    const sid = newSid();
    await writeLegacy(sid, { n: 1 });
    const [a, b] = await Promise.all([
      fixture.expressStore(options).get(sid),
      fixture.expressStore(options).get(sid),
    ]);
    expect(a).toMatchObject({ n: 1 });
    expect(b).toMatchObject({ n: 1 });
    const sessions = await fixture.redis.keys(`${fixture.prefix}:*:session:*`);
    const live = [];
    for (const key of sessions) if ((await fixture.redis.hget(key, 'd:n')) === '1') live.push(key);
    expect(live).toHaveLength(1);
  });

  it('logs out a session still in the old format (destroy deletes the old key too)', async () => {
    const { destroy } = fixture.expressStore({ migrateFromConnectRedis: { prefix: legacyPrefix } });
    const sid = newSid();
    await writeLegacy(sid, { n: 1 });
    await destroy(sid);
    expect(await fixture.redis.exists(legacyPrefix + sid)).toBe(0);
    expect(await fixture.expressStore({ migrateFromConnectRedis: true }).get(sid)).toBeNull();
  });

  it("reads connect-redis's custom serializer, and leaves old sessions alone unless asked", async () => {
    const serializer = {
      stringify: (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64'),
      parse: (text: string) => JSON.parse(Buffer.from(text, 'base64').toString()) as SessionData,
    };
    const custom = new RedisStore({ client: fixture.redis, prefix: legacyPrefix, serializer });
    const sid = newSid();
    await custom.set(sid, expressSession({ n: 9 }) as unknown as SessionData);
    expect(await fixture.expressStore().get(sid)).toBeNull();
    expect(await fixture.redis.exists(legacyPrefix + sid)).toBe(1);
    const migrating = fixture.expressStore({
      migrateFromConnectRedis: { prefix: legacyPrefix, serializer },
    });
    expect(await migrating.get(sid)).toMatchObject({ n: 9 });
  });
});
