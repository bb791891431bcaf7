import { resolveSessionOptions, SessionStore } from '@app/session';
import { checkProjections } from '../../apps/worker/src/rebuild/projection-check';
import { PROJECTIONS_GROUP } from '../../apps/worker/src/worker.constants';
import { AppProcess } from '../support/app-process';
import { previousReleaseRoot } from '../support/previous-release';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

jest.setTimeout(600_000);

interface Login {
  sessionId: string;
  token: string;
  csrfToken: string;
}

const USERS = [
  ['alice', 'alice-demo-pass'],
  ['bob', 'bob-demo-pass'],
  ['admin', 'admin-demo-pass'],
] as const;

/**
 * A rolling upgrade from the last format-1 release (built from git history) to this one, with
 * logins and requests flowing: api instances and the worker are replaced one by one; every
 * session stays valid on every instance, revocations stay instant across old and new, the
 * projections equal a replay and nothing is dead-lettered. Then the format is raised to 2.
 */
describe('rolling upgrade from the last format-1 release (real processes)', () => {
  const prefix = uniquePrefix('upgrade');
  const env = {
    REDIS_URL: testRedisUrl(),
    SESSION_PREFIX: prefix,
    LOGIN_RATE_LIMIT: '0',
    SESSION_COOKIE_SECURE: 'false',
    LOG_LEVEL: 'warn',
    SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    // The load logs in as fast as the machine allows, so a user may pass any per-user limit:
    // the worker would then rightly end their oldest sessions, which this test expects valid.
    SESSION_MAX_PER_USER: '0',
  };
  const redis = newRedisClient();
  let previous: string;
  let apps: AppProcess[] = [];
  // Built directly: a module would claim the deployment settings before the old release does.
  const store = new SessionStore(
    redis,
    resolveSessionOptions({ redis: { client: redis }, keyPrefix: prefix }),
  );
  const live: Login[] = [];

  beforeAll(async () => {
    previous = previousReleaseRoot();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  const url = (app: AppProcess, path: string) => `http://127.0.0.1:${app.port}${path}`;
  const me = (app: AppProcess, token: string) =>
    fetch(url(app, '/auth/me'), { headers: { authorization: `Bearer ${token}` } });

  async function login(app: AppProcess, i: number): Promise<Login> {
    const [userId, password] = USERS[i % USERS.length];
    const response = await fetch(url(app, '/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, password }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as Login;
  }

  /** Logins and requests on every running api until `stop` resolves (the load). */
  async function load(apis: () => AppProcess[], stop: Promise<void>): Promise<number> {
    let done = false;
    void stop.then(() => (done = true));
    let requests = 0;
    for (let i = 0; !done; i++) {
      const running = apis().filter((app) => app.alive);
      if (running.length === 0) break;
      const app = running[i % running.length];
      try {
        live.push(await login(app, i));
        const status = (await me(app, live[live.length - 1].token)).status;
        expect(status).toBe(200);
        requests += 2;
      } catch (error) {
        // An instance being replaced may refuse the connection: retried on the next one.
        if (app.alive && !String(error).includes('fetch failed')) throw error;
      }
    }
    return requests;
  }

  async function everyLiveSessionValidEverywhere(apis: AppProcess[]): Promise<void> {
    for (const app of apis)
      for (const session of live) {
        const status = (await me(app, session.token)).status;
        expect({ app: app.name, session: session.sessionId, status }).toMatchObject({
          status: 200,
        });
      }
  }

  async function revokedAtOnceEverywhere(by: AppProcess, apis: AppProcess[]): Promise<void> {
    const session = live.pop()!;
    const logout = await fetch(url(by, '/auth/logout'), {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(logout.status).toBe(204);
    // Redis refuses it at once; an instance's cache within the pub/sub delay (as between equals).
    for (const app of apis) {
      let status = 0;
      for (let i = 0; i < 100 && status !== 401; i++) {
        status = (await me(app, session.token)).status;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect({ app: app.name, status }).toEqual({ app: app.name, status: 401 });
    }
  }

  /** Entries of the projection group not yet read or not yet acknowledged, all partitions. */
  async function backlog(): Promise<number> {
    let total = 0;
    for (const stream of store.eventStreams()) {
      if ((await redis.exists(stream)) === 0) continue;
      for (const group of (await redis.xinfo('GROUPS', stream)) as unknown[][]) {
        const info: Record<string, unknown> = {};
        for (let i = 0; i < group.length; i += 2) info[String(group[i])] = group[i + 1];
        if (info.name === PROJECTIONS_GROUP) total += Number(info.pending) + Number(info.lag ?? 0);
      }
    }
    return total;
  }

  async function workerCaughtUp(): Promise<void> {
    for (let i = 0; i < 300 && (await backlog()) > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await backlog()).toBe(0);
  }

  async function projectionsEqualReplay(): Promise<void> {
    await workerCaughtUp();
    const report = await checkProjections(store);
    expect(report.unreadableEvents).toBe(0);
    expect(report.differences).toEqual([]);
    for (const stream of store.eventStreams()) expect(await store.deadLetterCount(stream)).toBe(0);
  }

  it('replaces the apis and the worker one by one, losing nothing', async () => {
    const [oldWorker, oldA, oldB] = await Promise.all([
      AppProcess.start('worker', 'v1-worker', env, previous),
      AppProcess.start('api', 'v1-api-a', env, previous),
      AppProcess.start('api', 'v1-api-b', env, previous),
    ]);
    apps = [oldWorker, oldA, oldB];
    // The previous release knows no format setting: proof that it is what runs.
    expect(await redis.hgetall(`${prefix}:deployment`)).toEqual({ streamPartitions: '16' });
    for (let i = 0; i < 30; i++) live.push(await login(i % 2 ? oldA : oldB, i));

    // The api B, then the worker, under load.
    let finish!: () => void;
    let loading = load(() => [oldA, apps[2]], new Promise<void>((resolve) => (finish = resolve)));
    await oldB.stop();
    const newB = await AppProcess.start('api', 'v2-api-b', env);
    apps[2] = newB;
    await oldWorker.stop();
    const newWorker = await AppProcess.start('worker', 'v2-worker', env);
    apps[0] = newWorker;
    finish();
    const first = await loading;
    expect(first).toBeGreaterThan(0);
    await everyLiveSessionValidEverywhere([oldA, newB]);
    await revokedAtOnceEverywhere(oldA, [oldA, newB]);
    await revokedAtOnceEverywhere(newB, [oldA, newB]);
    // The deployment predates the format setting: the new release writes what the old reads.
    expect(await redis.hget(`${prefix}:deployment`, 'format')).toBe('1');

    // The api A, under load.
    loading = load(() => [apps[1], newB], new Promise<void>((resolve) => (finish = resolve)));
    await oldA.stop();
    const newA = await AppProcess.start('api', 'v2-api-a', env);
    apps[1] = newA;
    finish();
    await loading;
    await everyLiveSessionValidEverywhere([newA, newB]);
    await projectionsEqualReplay();

    // Every process runs the new release: raise the format and restart them one by one.
    await store.raiseFormat(2);
    for (const [i, app] of apps.entries()) {
      await app.stop();
      apps[i] = await AppProcess.start(i === 0 ? 'worker' : 'api', `${app.name}-f2`, env);
    }
    for (let i = 0; i < 10; i++) live.push(await login(apps[1 + (i % 2)], i));
    const newest = live[live.length - 1];
    const partition = Number(newest.sessionId.split('-')[0]);
    const key = store.keys.session(newest.sessionId, partition);
    expect((await redis.hgetBuffer(key, 'sh'))?.length).toBe(32); // format 2 written
    await everyLiveSessionValidEverywhere(apps.slice(1));
    await revokedAtOnceEverywhere(apps[1], apps.slice(1));
    await projectionsEqualReplay();
    console.log(
      `rolling upgrade: ${live.length} live sessions valid on every instance, ` +
        `${first} requests while B and the worker were replaced`,
    );
  });
});
