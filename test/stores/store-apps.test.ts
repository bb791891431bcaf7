import { performance } from 'node:perf_hooks';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';
import { sleep } from '../support/sleep';
import { CookieJar, StoreAppProcess } from './store-app-process';

/** Polls `check` until it holds; returns the ms it took (printed, never asserted). */
async function msUntil(check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 2000 && !(await check()); i++);
  return performance.now() - started;
}

const APPS = [
  ['@fastify/session', 'fastify-session-app.ts'],
  ['express-session + passport-local', 'express-passport-app.ts'],
] as const;

describe.each(APPS)('%s app on the store, two instances', (name, fixture) => {
  const prefix = uniquePrefix('store-apps');
  let a: StoreAppProcess;
  let b: StoreAppProcess;

  beforeAll(async () => {
    const config = {
      session: { redis: { url: testRedisUrl() }, keyPrefix: prefix },
      redisUrl: testRedisUrl(),
    };
    [a, b] = await Promise.all([
      StoreAppProcess.start(fixture, config),
      StoreAppProcess.start(fixture, config),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  const login = (jar: CookieJar, app: StoreAppProcess, user: string) =>
    jar.request(app, 'POST', '/login', { user, username: user, password: 'pw' });

  it('a login on one instance is valid on the other', async () => {
    const jar = new CookieJar();
    expect((await login(jar, a, 'ann')).status).toBe(200);
    expect(await jar.request(b, 'GET', '/me')).toMatchObject({
      status: 200,
      body: { user: 'ann' },
    });
  });

  it('a logout on one instance is refused on the other at once', async () => {
    const jar = new CookieJar();
    await login(jar, a, 'ben');
    expect((await jar.request(b, 'GET', '/me')).status).toBe(200); // now cached on b
    const loggedOut = new CookieJar();
    loggedOut.cookie = jar.cookie;
    await jar.request(a, 'POST', '/logout');
    const ms = await msUntil(async () => (await loggedOut.request(b, 'GET', '/me')).status === 401);
    console.log(`${name}: logout on a refused on b after ${ms.toFixed(1)} ms`);
    expect((await loggedOut.request(b, 'GET', '/me')).status).toBe(401);
  });

  it("a revoke-all on one instance ends the user's sessions on the other", async () => {
    const [phone, laptop] = [new CookieJar(), new CookieJar()];
    await login(phone, a, 'cat');
    await login(laptop, b, 'cat');
    expect((await laptop.request(b, 'GET', '/me')).status).toBe(200);
    expect((await phone.request(a, 'POST', '/revoke-all')).status).toBe(200);
    const ms = await msUntil(async () => (await laptop.request(b, 'GET', '/me')).status === 401);
    console.log(`${name}: revoke-all on a refused on b after ${ms.toFixed(1)} ms`);
    expect((await laptop.request(b, 'GET', '/me')).status).toBe(401);
    expect((await phone.request(b, 'GET', '/me')).status).toBe(401);
  });

  it('keeps both changes of overlapping requests that change different keys', async () => {
    const jar = new CookieJar();
    await jar.request(a, 'POST', '/set/start');
    // The slow request reads the session, then the fast one (on the other instance) saves, then
    // the slow one saves: a store that writes the whole session would undo the fast one's change.
    const slow = jar.request(a, 'POST', '/set/slow?delay=300&value=2');
    await sleep(100);
    await jar.request(b, 'POST', '/set/fast?value=3');
    await slow;
    expect((await jar.request(b, 'GET', '/data')).body).toMatchObject({
      start: 1,
      slow: 2,
      fast: 3,
    });
  });

  it('a guest session gets a new id on login; the guest cookie no longer opens it', async () => {
    const jar = new CookieJar();
    await jar.request(a, 'POST', '/guest');
    expect(await jar.request(b, 'POST', '/guest')).toMatchObject({ body: { visits: 2 } });
    const guestCookie = jar.cookie;
    await login(jar, b, 'dan');
    expect(jar.cookie).not.toBe(guestCookie);
    expect((await jar.request(a, 'GET', '/me')).status).toBe(200);
    const stale = new CookieJar();
    stale.cookie = guestCookie;
    expect((await stale.request(a, 'GET', '/me')).status).toBe(401);
    expect(await stale.request(a, 'POST', '/guest')).toMatchObject({ body: { visits: 1 } });
  });
});

describe.each(APPS)('switching a %s app from connect-redis to the store', (_name, fixture) => {
  const prefix = uniquePrefix('store-switch');
  const legacyPrefix = `${prefix}:sess:`;
  const config = {
    session: { redis: { url: testRedisUrl() }, keyPrefix: prefix },
    redisUrl: testRedisUrl(),
    legacyPrefix,
  };
  afterAll(async () => {
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('logs no one out: the cookie connect-redis issued still works, and moves over', async () => {
    const jar = new CookieJar();
    const before = await StoreAppProcess.start(fixture, {
      ...config,
      store: 'connect-redis',
    });
    try {
      await jar.request(before, 'POST', '/login', { user: 'eve', username: 'eve', password: 'pw' });
      expect((await jar.request(before, 'GET', '/me')).status).toBe(200);
    } finally {
      await before.stop();
    }
    const redis = newRedisClient();
    expect(await redis.keys(`${legacyPrefix}*`)).toHaveLength(1);

    const after = await StoreAppProcess.start(fixture, config);
    try {
      const cookie = jar.cookie;
      expect(await jar.request(after, 'GET', '/me')).toMatchObject({
        status: 200,
        body: { user: 'eve' },
      });
      expect(jar.cookie).toBe(cookie);
      expect(await redis.keys(`${legacyPrefix}*`)).toHaveLength(0);
      // Now one of the library's sessions: a revoke-all ends it.
      await jar.request(after, 'POST', '/revoke-all');
      expect((await jar.request(after, 'GET', '/me')).status).toBe(401);
    } finally {
      await after.stop();
      await redis.quit();
    }
  }, 120_000);
});
