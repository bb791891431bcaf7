import { performance } from 'node:perf_hooks';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';
import { CookieJar, StoreAppProcess } from './store-app-process';

/** Polls `check` until it holds; returns the ms it took (printed, never asserted). */
async function msUntil(check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 2000 && !(await check()); i++);
  return performance.now() - started;
}

const APPS = [['@fastify/session', 'fastify-session-app.ts']] as const;

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
