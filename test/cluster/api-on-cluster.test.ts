import { AppProcess } from '../support/app-process';
import { RedisClusterProcess } from '../support/redis-cluster-process';

jest.setTimeout(120_000);

/** The api, unchanged, on Redis Cluster: selected by REDIS_CLUSTER_NODES alone. */
describe('api on a 3-master Redis Cluster (real processes)', () => {
  let cluster: RedisClusterProcess;
  let apis: AppProcess[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3 });
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      LOGIN_RATE_LIMIT: '0',
      SESSION_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
    };
    apis = await Promise.all(
      ['a', 'b'].map((name) => AppProcess.start('api', `cluster-api-${name}`, env)),
    );
  });
  afterAll(async () => {
    await Promise.all(apis.map((api) => api.stop()));
    await cluster?.stop();
  });

  const url = (api: AppProcess, path: string) => `http://127.0.0.1:${api.port}${path}`;

  it('logs in on one instance, uses and revokes users spread over every master from the other', async () => {
    const [a, b] = apis;
    const users = ['alice', 'bob', 'admin'];
    const passwords: Record<string, string> = {
      alice: 'alice-demo-pass',
      bob: 'bob-demo-pass',
      admin: 'admin-demo-pass',
    };
    for (const userId of users) {
      const login = await fetch(url(a, '/auth/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId, password: passwords[userId] }),
      });
      expect(login.status).toBe(201);
      const { token } = (await login.json()) as { token: string };
      const me = await fetch(url(b, '/auth/me'), { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      const patch = await fetch(url(b, '/sessions/current'), {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { theme: 'dark' } }),
      });
      expect(patch.status).toBe(200);
      const logout = await fetch(url(a, '/auth/logout'), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(logout.status).toBe(204);
      let status = 0;
      for (let i = 0; i < 100 && status !== 401; i++) {
        status = (
          await fetch(url(b, '/auth/me'), { headers: { authorization: `Bearer ${token}` } })
        ).status;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(status).toBe(401);
    }
    expect((await fetch(url(a, '/health'))).status).toBe(200);
  });

  it('counts login failures and session writes on the cluster (multi-key scripts in one slot)', async () => {
    const limited = await AppProcess.start('api', 'cluster-api-limited', {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      LOGIN_RATE_LIMIT: '3',
      SESSION_WRITE_RATE_LIMIT: '2',
      SESSION_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
    });
    try {
      const login = (password: string) =>
        fetch(url(limited, '/auth/login'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'bob', password }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) statuses.push((await login('wrong')).status);
      const ok = await login('bob-demo-pass'); // a success gives its count back
      statuses.push(ok.status);
      for (let i = 0; i < 2; i++) statuses.push((await login('wrong')).status);
      expect(statuses).toEqual([401, 401, 201, 401, 429]);
      const { token } = (await ok.json()) as { token: string };
      const writes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const patch = await fetch(url(limited, '/sessions/current'), {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ data: { i } }),
        });
        writes.push(patch.status);
      }
      expect(writes).toEqual([200, 200, 429]);
    } finally {
      await limited.stop();
    }
  });
});
