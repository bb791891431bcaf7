import { Controller, Get, type INestApplication, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import {
  CurrentUser,
  Roles,
  SessionCookies,
  SessionErrorFilter,
  SessionGuard,
  SessionService,
} from '@app/session';
import {
  authenticateAs,
  SESSION_TESTING_TARGET,
  SessionTestingModule,
  type SessionTestingTarget,
} from '@app/session/testing';

@Controller()
class ShopController {
  @Get('me')
  me(@CurrentUser() userId: string) {
    return { userId };
  }

  @Post('orders')
  order(@CurrentUser() userId: string) {
    return { orderedBy: userId };
  }

  @Roles('admin')
  @Get('admin')
  admin() {
    return { ok: true };
  }
}

/** @app/session/testing: the real library on a throwaway Redis, sessions made in one call. */
describe('The testing kit', () => {
  let app: INestApplication;
  let target: SessionTestingTarget;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionTestingModule.forRoot()],
      controllers: [ShopController],
      providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new SessionErrorFilter());
    await app.init();
    target = app.get(SESSION_TESTING_TARGET);
  });

  it('authenticates by bearer, and by cookie with the CSRF header on writes', async () => {
    const alice = await authenticateAs(app.get(SessionService), 'alice');
    await request(app.getHttpServer())
      .get('/me')
      .set(alice.bearer)
      .expect(200, { userId: 'alice' });
    const cookies = app.get(SessionCookies);
    await request(app.getHttpServer())
      .post('/orders')
      .set(alice.cookieHeaders(cookies))
      .expect(201, { orderedBy: 'alice' });
    await request(app.getHttpServer())
      .post('/orders')
      .set('cookie', alice.cookieHeaders(cookies).cookie)
      .expect(403);
    await request(app.getHttpServer()).get('/me').expect(401);
  });

  it('gives a session the roles asked for, and revocation works as in production', async () => {
    const sessions = app.get(SessionService);
    const admin = await authenticateAs(sessions, 'root', { roles: ['admin'] });
    const user = await authenticateAs(sessions, 'bob', { roles: ['user'] });
    await request(app.getHttpServer()).get('/admin').set(admin.bearer).expect(200);
    await request(app.getHttpServer()).get('/admin').set(user.bearer).expect(403);
    await sessions.revoke(admin.sessionId);
    await request(app.getHttpServer()).get('/admin').set(admin.bearer).expect(401);
  });

  it('uses its own key prefix and deletes its keys when the app closes', async () => {
    expect(target.keyPrefix).toMatch(/^test-[0-9a-f]{12}$/);
    const redis = new Redis(target.redisUrl);
    expect((await redis.keys(`${target.keyPrefix}:*`)).length).toBeGreaterThan(0);
    await app.close();
    expect(await redis.keys(`${target.keyPrefix}:*`)).toEqual([]);
    await redis.quit();
  });
});
