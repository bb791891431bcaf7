import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import {
  ForbiddenSessionDataError,
  SessionDataTooLargeError,
  SessionNotFoundError,
} from '@app/session';
import { waitUntil } from '../support/eventually';
import { sleep } from '../support/sleep';
import { readAllEvents } from '../session/session-fixture';
import { createStoreFixture, expressSession, sidDigest, type StoreFixture } from './store-fixture';

/** A sid as express-session makes them (uid-safe, 24 random bytes). */
const newSid = () => randomBytes(24).toString('base64url');

/**
 * The behaviours connect-redis's own tests check (get, set, touch, destroy, ttl, disableTouch,
 * custom ttl, the optional methods), written afresh for this store, and what it adds: the sid never
 * stored, no write for an unchanged session, no lost update, refusals reaching the app.
 */
describe('express-session store: the behaviours of a connect-redis store', () => {
  let fixture: StoreFixture;

  beforeAll(async () => {
    fixture = await createStoreFixture('store-behaviours', { touchIntervalSeconds: 1 });
  });
  afterAll(() => fixture.close());

  it('gets what it set, and nothing for an unknown sid', async () => {
    const { get, set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ cart: [1, 2], name: 'x' }));
    const got = await get(sid);
    expect(got).toMatchObject({ cart: [1, 2], name: 'x', cookie: { originalMaxAge: 3_600_000 } });
    expect(await get(newSid())).toBeNull();
    expect(await get('')).toBeNull();
  });

  it('destroys: the sid gets nothing, and a later save of it is refused, not revived', async () => {
    const { get, set, destroy } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ n: 1 }));
    await destroy(sid);
    expect(await get(sid)).toBeNull();
    await expect(set(sid, expressSession({ n: 2 }))).rejects.toBeInstanceOf(SessionNotFoundError);
    expect(await get(sid)).toBeNull();
  });

  it('stores only a hash of the sid: no key, field, value or event holds the sid', async () => {
    const { set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ n: 1 }));
    await set(sid, expressSession({ n: 2 }));
    const dump: string[] = [];
    for (const key of await fixture.redis.keys(`${fixture.prefix}*`)) {
      dump.push(key);
      const type = await fixture.redis.type(key);
      if (type === 'hash') dump.push(...Object.values(await fixture.redis.hgetall(key)));
      if (type === 'string') dump.push((await fixture.redis.get(key)) ?? '');
      if (type === 'stream') dump.push(JSON.stringify(await fixture.redis.xrange(key, '-', '+')));
    }
    expect(dump.join('\n')).not.toContain(sid);
    expect(dump.join('\n')).toContain(sidDigest(sid));
  });

  it('takes the idle TTL from the cookie maxAge, or from ttl (seconds or a function)', async () => {
    const byCookie = fixture.expressStore();
    const byNumber = fixture.expressStore({ ttl: 120 });
    const byFunction = fixture.expressStore({ ttl: (s) => (s.long ? 600 : 60) });
    const sids = [newSid(), newSid(), newSid()];
    await byCookie.set(sids[0], expressSession({ n: 1 }, 90_000));
    await byNumber.set(sids[1], expressSession({ n: 1 }));
    await byFunction.set(sids[2], expressSession({ long: true }));
    const ttls: number[] = [];
    for (const sid of sids) {
      const key = (await fixture.sessionKeyOf(sid))!;
      expect(await fixture.redis.hget(key, 'it')).toBe(
        String([90_000, 120_000, 600_000][ttls.length]),
      );
      ttls.push(await fixture.redis.pttl(key));
    }
    expect(ttls[0]).toBeGreaterThan(80_000);
    expect(ttls[0]).toBeLessThanOrEqual(90_000);
    expect(ttls[1]).toBeGreaterThan(110_000);
    expect(ttls[2]).toBeGreaterThan(590_000);
  });

  it('touch extends the idle expiry at most once per touch interval; disableTouch never', async () => {
    const touching = fixture.expressStore();
    const untouched = fixture.expressStore({ disableTouch: true });
    const [a, b] = [newSid(), newSid()];
    await touching.set(a, expressSession({ n: 1 }));
    await untouched.set(b, expressSession({ n: 1 }));
    const [keyA, keyB] = [(await fixture.sessionKeyOf(a))!, (await fixture.sessionKeyOf(b))!];
    const [laA, laB] = [await fixture.redis.hget(keyA, 'la'), await fixture.redis.hget(keyB, 'la')];
    await touching.touch(a, {});
    expect(await fixture.redis.hget(keyA, 'la')).toBe(laA); // within the interval: no write
    await sleep(1100);
    await touching.touch(a, {});
    await untouched.touch(b, {});
    // The touch is due: served from the cache, the background refresher writes it.
    await waitUntil(async () => Number(await fixture.redis.hget(keyA, 'la')) > Number(laA));
    expect(await fixture.redis.hget(keyB, 'la')).toBe(laB);
  });

  it('offers no all/ids/length/clear: the sids are not stored, and counting would scan', () => {
    const { store } = fixture.expressStore();
    const optional = store as unknown as Record<string, unknown>;
    expect([optional.all, optional.ids, optional.length, optional.clear]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('writes nothing when an unchanged session is saved', async () => {
    const { set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ a: 1 }));
    const before = (await readAllEvents(fixture)).length;
    // A new cookie expiry (express-session resets it every request) is no change either.
    await set(sid, expressSession({ a: 1 }));
    await set(sid, expressSession({ a: 1 }, 3_600_000));
    expect((await readAllEvents(fixture)).length).toBe(before);
    await set(sid, expressSession({ a: 2 }));
    expect((await readAllEvents(fixture)).length).toBe(before + 1);
  });

  it('stores no empty guest session (nothing but a cookie): no write, nothing lost', async () => {
    const { get, set } = fixture.expressStore();
    const sid = newSid();
    const before = (await readAllEvents(fixture)).length;
    await set(sid, expressSession({}));
    expect(await get(sid)).toBeNull();
    expect(await fixture.sessionKeyOf(sid)).toBeNull();
    expect((await readAllEvents(fixture)).length).toBe(before);
    await set(sid, expressSession({ a: 1 }));
    expect(await get(sid)).toMatchObject({ a: 1 });
  });

  it('keeps both changes of two overlapping requests that change different keys', async () => {
    const { store, set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ a: 1, b: 1, gone: true }));
    // Two requests read the session, then each changes its own keys and saves.
    const load = () =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        store.get(sid, (err, data) =>
          err || !data
            ? reject(err as Error)
            : resolve(
                store.createSession({} as Request, data) as unknown as Record<string, unknown>,
              ),
        ),
      );
    const [first, second] = [await load(), await load()];
    first.a = 2;
    delete second.gone;
    second.b = 3;
    await set(sid, first);
    await set(sid, second);
    expect(await fixture.expressStore().get(sid)).toMatchObject({ a: 2, b: 3 });
    expect(await fixture.expressStore().get(sid)).not.toHaveProperty('gone');
  });

  it('refuses a forbidden key or oversize data with an error, and keeps what was stored', async () => {
    const { get, set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ ok: 1 }));
    await expect(set(sid, expressSession({ ok: 1, password: 'x' }))).rejects.toBeInstanceOf(
      ForbiddenSessionDataError,
    );
    await expect(set(sid, expressSession({ ok: 1, big: 'x'.repeat(5000) }))).rejects.toBeInstanceOf(
      SessionDataTooLargeError,
    );
    await expect(set(newSid(), expressSession({ password: 'x' }))).rejects.toBeInstanceOf(
      ForbiddenSessionDataError,
    );
    expect(await get(sid)).toMatchObject({ ok: 1 });
  });
});
