import { REDACTED } from '../../apps/api/src/logging/logger.options';
import { type ApiFixture, createApiFixture, sleep } from './api-fixture';

interface LogLine {
  level: number;
  msg?: string;
  req?: { url?: string; method?: string; headers?: Record<string, string> };
  res?: { statusCode?: number; headers?: Record<string, string> };
  [key: string]: unknown;
}

describe('structured logs (real Redis)', () => {
  let fx: ApiFixture;
  const chunks: string[] = [];

  beforeAll(async () => {
    fx = await createApiFixture(
      'api-logs',
      { LOG_LEVEL: 'info' },
      { logDestination: { write: (chunk: string) => void chunks.push(chunk) } },
    );
  });
  afterAll(() => fx.close());

  const lines = (): LogLine[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LogLine);

  async function waitForRequestLog(method: string, url: string): Promise<LogLine> {
    for (let i = 0; i < 100; i++) {
      const found = lines().find((l) => l.req?.method === method && l.req?.url === url);
      if (found) return found;
      await sleep(10);
    }
    throw new Error(`no log line for ${method} ${url}`);
  }

  it('writes one JSON line per request and never a token, cookie, CSRF token or password', async () => {
    const password = 'alice-demo-pass';
    const login = await fx
      .http()
      .post('/auth/login')
      .set('x-request-id', 'login-req-1')
      .send({ userId: 'alice', password })
      .expect(201);
    const { token, csrfToken, sessionId } = login.body as {
      token: string;
      csrfToken: string;
      sessionId: string;
    };
    const secret = token.split('.')[1];

    await fx
      .http()
      .get('/auth/me')
      .set('Cookie', `session_id=${token}; theme=dark`)
      .set('Authorization', `Bearer ${token}`)
      .set('x-session-id', token)
      .set('x-csrf-token', csrfToken)
      .expect(200);
    await fx
      .http()
      .post('/auth/login')
      .send({ userId: 'alice', password: 'wrong-secret-password' })
      .expect(401);
    const rotated = await fx
      .http()
      .post('/auth/rotate')
      .set('Cookie', `session_id=${token}`)
      .set('x-csrf-token', csrfToken)
      .expect(201);
    const newToken = (rotated.body as { token: string }).token;

    const loginLine = await waitForRequestLog('POST', '/auth/login');
    const meLine = await waitForRequestLog('GET', '/auth/me');
    await waitForRequestLog('POST', '/auth/rotate');

    // The lines are there, with what operators need...
    expect(loginLine).toMatchObject({ level: 30, res: { statusCode: 201 } });
    expect(loginLine.req).toMatchObject({ method: 'POST', url: '/auth/login' });
    expect(String((loginLine.req as { id?: unknown }).id)).toBe('login-req-1');
    expect(meLine).toMatchObject({ userId: 'alice', sessionId, res: { statusCode: 200 } });
    // ...and the secrets are replaced.
    expect(meLine.req?.headers).toMatchObject({
      cookie: REDACTED,
      authorization: REDACTED,
      'x-session-id': REDACTED,
      'x-csrf-token': REDACTED,
    });
    expect(loginLine.res?.headers?.['set-cookie']).toBe(REDACTED);
    expect(lines().some((l) => l.level === 40 && l.res?.statusCode === 401)).toBe(true);

    const output = chunks.join('');
    for (const leaked of [
      token,
      secret,
      newToken,
      newToken.split('.')[1],
      csrfToken,
      password,
      'wrong-secret-password',
    ]) {
      expect(output).not.toContain(leaked);
    }
  });

  it('redacts secrets in objects the app logs by hand', async () => {
    const { PinoLogger } = await import('nestjs-pino');
    const logger = await fx.app.resolve(PinoLogger);
    logger.info(
      { token: 'tok-123', user: { password: 'pw-456', csrfToken: 'csrf-789' } },
      'manual',
    );
    const line = lines().find((l) => l.msg === 'manual');
    expect(line).toMatchObject({
      token: REDACTED,
      user: { password: REDACTED, csrfToken: REDACTED },
    });
    expect(chunks.join('')).not.toMatch(/tok-123|pw-456|csrf-789/);
  });

  it('scrubs tokens from logged urls, params and query strings, keeping the session id', async () => {
    const { token, sessionId, csrfToken } = await fx.login('bob');
    const secret = token.split('.')[1];
    // A client that puts the full token where the session id belongs, and tokens in the query.
    await fx.http().delete(`/sessions/${token}`).set('x-session-id', token).expect(404);
    await fx
      .http()
      .get(`/auth/me?token=${token}&sid=${encodeURIComponent(token)}&csrf=${csrfToken}&page=2`)
      .set('x-session-id', token)
      .expect(200);
    await fx.http().get(`/nowhere/${secret}`).expect(404);

    const deleteLine = await waitForRequestLog('DELETE', `/sessions/${sessionId}.[Redacted]`);
    expect(deleteLine.req).toMatchObject({ params: { sessionId: `${sessionId}.[Redacted]` } });
    const meLine = lines().find((l) => l.req?.url?.startsWith('/auth/me?'));
    expect(meLine?.req).toMatchObject({ query: { sid: `${sessionId}.[Redacted]`, page: '2' } });
    expect(meLine?.req?.url).toContain('&page=2');
    await waitForRequestLog('GET', '/nowhere/[Redacted]');

    const output = chunks.join('');
    for (const leaked of [token, secret, encodeURIComponent(token), csrfToken]) {
      expect(output).not.toContain(leaked);
    }
  });
});
