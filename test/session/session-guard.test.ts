import {
  Controller,
  Get,
  type INestApplication,
  Module,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  CurrentSession,
  CurrentUser,
  type CookieResponse,
  Public,
  Roles,
  type Session,
  SessionCookies,
  SessionErrorFilter,
  SessionGuard,
  SessionModule,
  SessionService,
  type SessionRequest,
  SkipCsrf,
} from '@app/session';
import {
  HTTP_ADAPTERS,
  type HttpAdapterName,
  httpAdapter,
  initApp,
} from '../support/http-adapters';
import { RedisServerProcess } from '../support/redis-server-process';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

@Controller()
class ProbeController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
  ) {}

  /** Sets the session cookie through the adapter's own response object. */
  @Public()
  @Post('login')
  async login(@Res({ passthrough: true }) response: CookieResponse) {
    const created = await this.sessions.create('cookie-user');
    this.cookies.clear(response); // a second Set-Cookie line: the set must append, not replace
    this.cookies.set(response, created);
    return { sessionId: created.sessionId };
  }

  @Post('logout')
  logout(@Res({ passthrough: true }) response: CookieResponse) {
    this.cookies.clear(response);
    return { ok: true };
  }

  /** A refused data key: the library's typed error, mapped by SessionErrorFilter. */
  @Patch('data')
  async data(@CurrentSession() session: Session) {
    return this.sessions.update(session.sessionId, { password: 'hunter2' });
  }
  @Get('me')
  me(
    @CurrentUser() userId: string,
    @CurrentSession() session: Session,
    @Req() req: SessionRequest,
  ) {
    return { userId, sessionId: session.sessionId, auth: req.sessionAuth };
  }

  @Public()
  @Get('open')
  open(@CurrentUser() userId?: string) {
    return { userId: userId ?? null };
  }

  @Public({ attachSession: false })
  @Get('liveness')
  liveness(@CurrentUser() userId?: string) {
    return { userId: userId ?? null };
  }

  @Patch('write')
  write() {
    return { ok: true };
  }

  @SkipCsrf()
  @Post('form')
  form() {
    return { ok: true };
  }

  @Roles('admin')
  @Get('admin')
  admin() {
    return { ok: true };
  }
}

async function startApp(
  adapter: HttpAdapterName,
  redisUrl: string,
  prefix: string,
  cookieName?: string,
): Promise<INestApplication> {
  @Module({
    imports: [
      SessionModule.forRoot({
        redis: { url: redisUrl },
        keyPrefix: prefix,
        commandTimeoutMs: 300,
        cookie: cookieName ? { name: cookieName } : undefined,
      }),
    ],
    controllers: [ProbeController],
    providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
  })
  class ProbeModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
  const app = moduleRef.createNestApplication(httpAdapter(adapter), { logger: false });
  app.useGlobalFilters(new SessionErrorFilter(app.getHttpAdapter()));
  await initApp(app);
  return app;
}

describe.each(HTTP_ADAPTERS)('SessionGuard and decorators over HTTP (%s)', (adapter) => {
  const prefix = uniquePrefix(`guard-${adapter}`);
  let app: INestApplication;
  let sessions: SessionService;

  beforeAll(async () => {
    app = await startApp(adapter, testRedisUrl(), prefix);
    sessions = app.get(SessionService);
  });
  afterAll(async () => {
    await app.close();
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('answers 401 without a token and with an invalid one', async () => {
    await request(app.getHttpServer()).get('/me').expect(401);
    await request(app.getHttpServer()).get('/me').set('x-session-id', 'nope').expect(401);
    await request(app.getHttpServer()).get('/me').set('Authorization', 'Bearer nope').expect(401);
  });

  it('accepts the token from the cookie, the x-session-id header or a bearer header', async () => {
    const { token, sessionId } = await sessions.create('alice');
    const server = app.getHttpServer();
    const viaCookie = await request(server)
      .get('/me')
      .set('Cookie', `__Host-session_id=${token}`)
      .expect(200);
    expect(viaCookie.body).toEqual({ userId: 'alice', sessionId, auth: 'cookie' });
    const viaHeader = await request(server).get('/me').set('x-session-id', token).expect(200);
    expect(viaHeader.body.auth).toBe('header');
    const viaBearer = await request(server)
      .get('/me')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(viaBearer.body.auth).toBe('bearer');
  });

  it('lets a public route through without a session and still attaches a valid one', async () => {
    const { token } = await sessions.create('bob');
    expect((await request(app.getHttpServer()).get('/open').expect(200)).body).toEqual({
      userId: null,
    });
    expect(
      (await request(app.getHttpServer()).get('/open').set('x-session-id', 'bad').expect(200)).body,
    ).toEqual({ userId: null });
    expect(
      (await request(app.getHttpServer()).get('/open').set('x-session-id', token).expect(200)).body,
    ).toEqual({ userId: 'bob' });
  });

  it('does no session lookup at all on a public route that opts out, even with a valid token', async () => {
    const { token } = await sessions.create('bobby');
    const before = sessions.stats().l1;
    const response = await request(app.getHttpServer())
      .get('/liveness')
      .set('x-session-id', token)
      .expect(200);
    expect(response.body).toEqual({ userId: null });
    const after = sessions.stats().l1;
    expect(after.hits + after.misses).toBe(before.hits + before.misses);
  });

  it('requires the CSRF header on cookie-authenticated writes only', async () => {
    const { token, csrfToken } = await sessions.create('carol');
    const server = app.getHttpServer();
    await request(server).patch('/write').set('Cookie', `__Host-session_id=${token}`).expect(403);
    await request(server)
      .patch('/write')
      .set('Cookie', `__Host-session_id=${token}`)
      .set('x-csrf-token', 'wrong')
      .expect(403);
    await request(server)
      .patch('/write')
      .set('Cookie', `__Host-session_id=${token}`)
      .set('x-csrf-token', csrfToken)
      .expect(200);
    await request(server).patch('/write').set('x-session-id', token).expect(200);
    await request(server).patch('/write').set('Authorization', `Bearer ${token}`).expect(200);
    await request(server).post('/form').set('Cookie', `__Host-session_id=${token}`).expect(201);
    await request(server).get('/me').set('Cookie', `__Host-session_id=${token}`).expect(200);
  });

  it('answers 403 when the session lacks the required role', async () => {
    const user = await sessions.create('dave', { roles: ['user'] });
    const admin = await sessions.create('erin', { roles: ['admin'] });
    await request(app.getHttpServer()).get('/admin').set('x-session-id', user.token).expect(403);
    await request(app.getHttpServer()).get('/admin').set('x-session-id', admin.token).expect(200);
  });

  it('rejects a revoked session at once', async () => {
    const { token, sessionId } = await sessions.create('frank');
    await request(app.getHttpServer()).get('/me').set('x-session-id', token).expect(200);
    await sessions.revoke(sessionId, 'logout');
    await request(app.getHttpServer()).get('/me').set('x-session-id', token).expect(401);
  });

  it("sets and clears the session cookie through the adapter's response, keeping other lines", async () => {
    const response = await request(app.getHttpServer()).post('/login').expect(201);
    const lines = response.headers['set-cookie'] as unknown as string[];
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^__Host-session_id=; Max-Age=0;/);
    expect(lines[1]).toMatch(/^__Host-session_id=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure/);
    const token = /^__Host-session_id=([^;]+)/.exec(lines[1])?.[1];
    const me = await request(app.getHttpServer())
      .get('/me')
      .set('x-session-id', token ?? '');
    expect(me.body).toMatchObject({ userId: 'cookie-user', sessionId: response.body.sessionId });
    const logout = await request(app.getHttpServer())
      .post('/logout')
      .set('x-session-id', token ?? '')
      .expect(201);
    expect(logout.headers['set-cookie']).toEqual([
      expect.stringMatching(/^__Host-session_id=; Max-Age=0;/),
    ]);
  });

  it("maps a session error to its 4xx in Nest's error shape (not a 500)", async () => {
    const { token } = await sessions.create('grace');
    const response = await request(app.getHttpServer())
      .patch('/data')
      .set('x-session-id', token)
      .expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(response.body.message).toMatch(/password/);
  });
});

describe.each(HTTP_ADAPTERS)('SessionGuard when Redis is down (%s)', (adapter) => {
  it('answers 503 quickly instead of hanging or failing with 500, and recovers', async () => {
    const redis = await RedisServerProcess.start();
    const prefix = uniquePrefix('guard-down');
    const app = await startApp(adapter, redis.url, prefix, 'sid');
    try {
      const { token } = await app.get(SessionService).create('alice');
      await request(app.getHttpServer())
        .get('/me')
        .set('Cookie', `__Host-sid=${token}`)
        .expect(200);
      await redis.kill();
      const started = Date.now();
      const response = await request(app.getHttpServer())
        .get('/me')
        .set('Cookie', `__Host-sid=${token}`);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(Date.now() - started).toBeLessThan(5000);
      await redis.restart(); // empty: the old session is gone, but the service answers again
      let status = 0;
      for (let i = 0; i < 50 && status !== 401; i++) {
        status = (
          await request(app.getHttpServer()).get('/me').set('Cookie', `__Host-sid=${token}`)
        ).status;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(401);
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
