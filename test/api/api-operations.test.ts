import { type ApiFixture, createApiFixture, sleep } from './api-fixture';
import { testHttpAdapter } from '../support/http-adapters';

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        security?: Record<string, string[]>[];
        requestBody?: unknown;
        responses: Record<string, unknown>;
      }
    >
  >;
  components: {
    securitySchemes: Record<string, Record<string, unknown>>;
    schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
  };
}

/** Scrapes /metrics until the text matches (a response is counted on 'finish'). */
async function scrapeUntil(fx: ApiFixture, pattern: RegExp, timeoutMs = 2000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { text } = await fx.http().get('/metrics').expect(200);
    if (pattern.test(text) || Date.now() > deadline) return text;
    await sleep(20);
  }
}

describe('api operations and bad input (real Redis)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-ops', { DOCS_ENABLED: 'true' });
  });
  afterAll(() => fx.close());

  it('GET /ping answers { pong: true } without a session', async () => {
    const response = await fx.http().get('/ping').expect(200);
    expect(response.body).toEqual({ pong: true });
  });

  it('GET /health answers 200 when Redis answers PING', async () => {
    const response = await fx.http().get('/health').expect(200);
    expect(response.body).toMatchObject({ status: 'ok', details: { redis: { status: 'up' } } });
  });

  it('GET /health/live and /health/ready answer 200 with every check up', async () => {
    const live = await fx.http().get('/health/live').expect(200);
    expect(live.body).toEqual({ status: 'ok', checks: { shutdown: 'up', eventLoop: 'up' } });
    expect(live.headers['cache-control']).toBe('no-store');
    const ready = await fx.http().get('/health/ready').expect(200);
    expect(ready.body).toEqual({
      status: 'ok',
      checks: { shutdown: 'up', redis: 'up', invalidations: 'up', deploymentSettings: 'up' },
    });
  });

  it('GET /metrics exposes process, HTTP and session metrics', async () => {
    const alice = await fx.login('alice');
    await fx.http().post('/auth/login').send({ userId: 'alice', password: 'wrong' }).expect(401);
    await fx.http().post('/auth/logout').set('x-session-id', alice.token).expect(204);
    await fx.http().get('/ping').expect(200);
    await fx.http().get('/no-such-route').expect(404);
    const response = await fx.http().get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    // A request is counted when its response has gone out, which can trail the client by a tick.
    const text = await scrapeUntil(fx, /route="unmatched",status="404"/);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'session_logins_total',
      'session_login_rate_limited_total',
      'session_revocations_total',
      'session_rotations_total',
    ]) {
      expect(text).toContain(`# TYPE ${name.replace(/_bucket$/, '')} `);
    }
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/ping",status="200"\} [1-9]/);
    expect(text).toContain('http_requests_total{method="POST",route="/auth/login",status="401"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain('session_logins_total{result="ok"} 1');
    expect(text).toContain('session_logins_total{result="failed"} 1');
    expect(text).toContain('session_revocations_total{kind="logout"} 1');
    expect(text).toContain('session_login_rate_limited_total{scope="user"} 0');
    expect(text).toContain(
      'http_request_duration_seconds_count{method="POST",route="/auth/logout",status="204"} 1',
    );
    // Route patterns, never raw ids or tokens.
    expect(text).not.toContain(alice.sessionId);
  });

  it('GET /docs serves the Swagger UI', async () => {
    const response = await fx.http().get('/docs').redirects(1).expect(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.text).toMatch(/swagger-ui/i);
  });

  it('GET /docs-json documents every route, its schemas and the auth schemes', async () => {
    const response = await fx.http().get('/docs-json').expect(200);
    const doc = response.body as OpenApiDocument;
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'POST /auth/login',
        'GET /auth/me',
        'POST /auth/logout',
        'POST /auth/rotate',
        'GET /sessions',
        'PATCH /sessions/current',
        'DELETE /sessions/{sessionId}',
        'POST /sessions/revoke-others',
        'DELETE /admin/users/{userId}/sessions',
        'GET /ping',
        'GET /health',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
      ].sort(),
    );

    const schemes = doc.components.securitySchemes;
    expect(schemes['session-cookie']).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'session_id',
    });
    expect(schemes['session-header']).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-session-id',
    });
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes['csrf-token']).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-csrf-token',
    });

    expect(doc.paths['/auth/me'].get.security).toEqual(
      expect.arrayContaining([{ 'session-cookie': [] }, { 'session-header': [] }, { bearer: [] }]),
    );
    expect(doc.paths['/auth/logout'].post.security).toEqual(
      expect.arrayContaining([{ 'session-cookie': [], 'csrf-token': [] }, { bearer: [] }]),
    );
    expect(doc.paths['/auth/login'].post.security).toBeUndefined();
    expect(doc.paths['/ping'].get.security).toBeUndefined();

    expect(JSON.stringify(doc.paths['/auth/login'].post.requestBody)).toContain('LoginRequestDto');
    expect(Object.keys(doc.paths['/auth/login'].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '429']),
    );
    expect(Object.keys(doc.components.schemas.LoginResponseDto.properties ?? {}).sort()).toEqual(
      ['csrfToken', 'expiresAt', 'roles', 'sessionId', 'token', 'userId'].sort(),
    );
    expect(Object.keys(doc.components.schemas.MeResponseDto.properties ?? {})).toHaveLength(9);
    expect(doc.components.schemas.ErrorResponseDto.required).toEqual(
      expect.arrayContaining(['statusCode', 'message', 'error']),
    );
    expect(JSON.stringify(doc.paths['/sessions/current'].patch.requestBody)).toContain(
      'UpdateSessionDataDto',
    );
    expect(Object.keys(doc.paths['/sessions/current'].patch.responses)).toEqual(
      expect.arrayContaining(['200', '400', '413']),
    );
  });

  describe('client input never produces a 500', () => {
    it('answers malformed JSON with 400 in Nest’s error shape', async () => {
      const response = await fx
        .http()
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"userId": "alice", "password": ')
        .expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        message: 'Malformed JSON body',
        error: 'Bad Request',
      });
    });

    it('answers a 1 MB body with 413 before parsing it', async () => {
      const big = JSON.stringify({ userId: 'alice', password: 'x', pad: 'p'.repeat(1024 * 1024) });
      const response = await fx
        .http()
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send(big)
        .expect(413);
      expect(response.body).toEqual({
        statusCode: 413,
        message: 'Request body is larger than 32768 bytes',
        error: 'Payload Too Large',
      });
    });

    it('answers a 1 MB session patch with 413 too', async () => {
      const alice = await fx.login('alice');
      await fx
        .http()
        .patch('/sessions/current')
        .set('x-session-id', alice.token)
        .send({ data: { blob: 'b'.repeat(1024 * 1024) } })
        .expect(413);
    });

    it('answers wrong types with 400', async () => {
      const response = await fx
        .http()
        .post('/auth/login')
        .send({ userId: ['alice'], password: true })
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect((response.body as { message: string }).message).toMatch(/userId/);
    });

    it('answers an unknown route with 404 in Nest’s error shape', async () => {
      const response = await fx.http().get('/nope').expect(404);
      expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });

    type Send = (f: ApiFixture, token: string) => Promise<{ status: number; body: unknown }>;
    const json = (f: ApiFixture, text: string) =>
      f.http().post('/auth/login').set('Content-Type', 'application/json').send(text);
    const patch = (f: ApiFixture, token: string, text: string) =>
      f
        .http()
        .patch('/sessions/current')
        .set('x-session-id', token)
        .set('Content-Type', 'application/json')
        .send(text);
    const nasty: [string, number, Send][] = [
      ['JSON null', 400, (f) => json(f, 'null')],
      ['a JSON string', 400, (f) => json(f, '"x"')],
      [
        'a text/plain body',
        400,
        (f) => f.http().post('/auth/login').type('text').send('userId=alice'),
      ],
      [
        'a form body',
        400,
        (f) => f.http().post('/auth/login').type('form').send({ userId: 'alice' }),
      ],
      [
        'an unsupported charset',
        415,
        (f) =>
          f
            .http()
            .post('/auth/login')
            .set('Content-Type', 'application/json; charset=klingon')
            .send('{}'),
      ],
      [
        'an unsupported content encoding',
        415,
        (f) =>
          f
            .http()
            .post('/auth/login')
            .set('Content-Type', 'application/json')
            .set('Content-Encoding', 'zz')
            .send('{}'),
      ],
      [
        'a bad percent-encoding in a path',
        400,
        (f, t) => f.http().delete('/sessions/%E0%A4%A').set('x-session-id', t),
      ],
      [
        'a bad percent-encoding in a user id',
        400,
        (f, t) => f.http().delete('/admin/users/%ZZ/sessions').set('x-session-id', t),
      ],
      [
        'a deeply nested patch',
        400,
        (f, t) => patch(f, t, `{"data":{"a":${'['.repeat(100)}${']'.repeat(100)}}}`),
      ],
      ['a number out of range', 400, (f, t) => patch(f, t, '{"data":{"n":1e999}}')],
      ['a __proto__ body', 400, (f) => json(f, '{"__proto__":{"userId":"alice"},"password":"x"}')],
      [
        'an over-long bearer token',
        401,
        (f) =>
          f
            .http()
            .get('/auth/me')
            .set('Authorization', `Bearer ${'t'.repeat(5000)}`),
      ],
      [
        'two bearer schemes',
        401,
        (f, t) => f.http().get('/auth/me').set('Authorization', `Basic x, Bearer ${t}`),
      ],
    ];
    it.each(nasty)('answers %s with %i in Nest’s error shape', async (_, expected, send) => {
      const alice = await fx.login('alice');
      const { status, body } = await send(fx, alice.token);
      expect(status).toBe(expected);
      expect(body).toEqual({
        statusCode: expected,
        message: expect.any(String),
        error: expect.any(String),
      });
    });

    it('accepts a 10 kB user agent (it is cut, not refused)', async () => {
      const response = await fx
        .http()
        .post('/auth/login')
        .set('User-Agent', 'u'.repeat(10_000))
        .send({ userId: 'alice', password: 'alice-demo-pass' })
        .expect(201);
      const session = await fx.sessions.validate((response.body as { token: string }).token);
      expect(session?.userAgent?.length).toBe(512);
    });

    it('labels unknown routes "unmatched" and refused bodies by what routing knew', async () => {
      await json(fx, '{oops').expect(400);
      await fx.http().get('/nowhere/at/all').expect(404);
      const text = await scrapeUntil(fx, /route="unmatched",status="404"/);
      expect(text).toMatch(
        /http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]/,
      );
      // Express parses the body before routing; Fastify routes first, so the route is known.
      const bodyRoute = testHttpAdapter() === 'express' ? 'unmatched' : '/auth/login';
      expect(text).toMatch(
        new RegExp(
          `http_requests_total\\{method="POST",route="${bodyRoute}",status="400"\\} [1-9]`,
        ),
      );
    });
  });
});
