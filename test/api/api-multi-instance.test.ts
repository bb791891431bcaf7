import { AppProcess } from '../support/app-process';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

jest.setTimeout(180_000);

interface Login {
  sessionId: string;
  token: string;
  csrfToken: string;
}

/** Three api processes and one worker on one Redis: a session works and dies on all of them. */
describe('api across three instances and a worker (real processes)', () => {
  const prefix = uniquePrefix('api-multi');
  let apis: AppProcess[];
  let worker: AppProcess;

  beforeAll(async () => {
    const env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: prefix,
      LOGIN_RATE_LIMIT: '0',
      SESSION_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
    };
    [worker, ...apis] = await Promise.all([
      AppProcess.start('worker', 'multi-worker', env),
      ...['a', 'b', 'c'].map((name) => AppProcess.start('api', `api-${name}`, env)),
    ]);
  });
  afterAll(async () => {
    await Promise.all([...apis, worker].map((app) => app.stop()));
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  const url = (app: AppProcess, path: string) => `http://127.0.0.1:${app.port}${path}`;

  async function login(app: AppProcess, userId: string, password: string): Promise<Login> {
    const response = await fetch(url(app, '/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': `jest-${app.name}` },
      body: JSON.stringify({ userId, password }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as Login;
  }

  const me = (app: AppProcess, token: string) =>
    fetch(url(app, '/auth/me'), { headers: { cookie: `session_id=${token}` } });

  async function rejectedEverywhere(token: string): Promise<void> {
    for (const app of apis) {
      let status = 0;
      for (let i = 0; i < 100 && status !== 401; i++) {
        status = (await me(app, token)).status;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(status).toBe(401);
    }
  }

  it('logs in on one, uses the session on another, logs out on a third: rejected everywhere', async () => {
    const [a, b, c] = apis;
    const session = await login(a, 'alice', 'alice-demo-pass');
    const onB = await me(b, session.token);
    expect(onB.status).toBe(200);
    expect(await onB.json()).toMatchObject({ userId: 'alice', sessionId: session.sessionId });

    let listed: { sessionId: string; current: boolean; userAgent?: string }[] = [];
    for (let i = 0; i < 100 && !listed.some((s) => s.sessionId === session.sessionId); i++) {
      listed = (await (
        await fetch(url(c, '/sessions'), { headers: { authorization: `Bearer ${session.token}` } })
      ).json()) as typeof listed;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(listed.find((s) => s.sessionId === session.sessionId)).toMatchObject({
      current: true,
      userAgent: 'jest-api-a',
    });

    const logout = await fetch(url(c, '/auth/logout'), {
      method: 'POST',
      headers: { cookie: `session_id=${session.token}`, 'x-csrf-token': session.csrfToken },
    });
    expect(logout.status).toBe(204);
    await rejectedEverywhere(session.token);
  });

  it('rotates on one instance: the old token dies on the others at once, the new one works everywhere', async () => {
    const [a, b] = apis;
    const session = await login(a, 'bob', 'bob-demo-pass');
    for (const app of apis) expect((await me(app, session.token)).status).toBe(200);
    const rotate = await fetch(url(b, '/auth/rotate'), {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(rotate.status).toBe(201);
    const rotated = (await rotate.json()) as { token: string };
    await rejectedEverywhere(session.token);
    for (const app of apis) expect((await me(app, rotated.token)).status).toBe(200);
  });

  it('an admin revoking a user on one instance ends that user’s sessions on all of them', async () => {
    const [a, b, c] = apis;
    const sessions = [
      await login(a, 'bob', 'bob-demo-pass'),
      await login(b, 'bob', 'bob-demo-pass'),
    ];
    for (const s of sessions)
      for (const app of apis) expect((await me(app, s.token)).status).toBe(200);
    const admin = await login(c, 'admin', 'admin-demo-pass');
    const revoke = await fetch(url(c, '/admin/users/bob/sessions'), {
      method: 'DELETE',
      headers: { 'x-session-id': admin.token },
    });
    expect(revoke.status).toBe(200);
    for (const s of sessions) await rejectedEverywhere(s.token);
  });
});
