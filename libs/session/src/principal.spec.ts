import { Controller, Get, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CurrentPrincipal } from './principal';
import { CurrentUser, Public } from './session.decorators';
import { SessionGuard } from './session.guard';
import { SessionService } from './session.service';
import type { Session } from './session.types';
import { SessionTestingModule } from './testing';

interface User {
  id: string;
  name: string;
}

@Controller()
class ProfileController {
  @Get('profile')
  profile(
    @CurrentPrincipal() user: User,
    @CurrentPrincipal() again: User,
    @CurrentUser() userId: string,
  ) {
    return { user, same: user === again, userId };
  }

  @Public()
  @Get('maybe')
  maybe(@CurrentPrincipal() user: User | undefined) {
    return { signedIn: user !== undefined };
  }
}

describe('@CurrentPrincipal()', () => {
  let app: INestApplication;
  const lookups: string[] = [];
  const users = new Map<string, User>([['ada', { id: 'ada', name: 'Ada Lovelace' }]]);

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SessionTestingModule.withoutRedis({
          resolvePrincipal: async (session: Session) => {
            lookups.push(session.userId);
            return users.get(session.userId);
          },
        }),
      ],
      controllers: [ProfileController],
      providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('resolves the principal once per request; @CurrentUser() still gives the id', async () => {
    const sessions = app.get(SessionService);
    const { token } = await sessions.create('ada');
    for (let i = 0; i < 2; i++) {
      const response = await request(app.getHttpServer())
        .get('/profile')
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      expect(response.body).toEqual({
        user: { id: 'ada', name: 'Ada Lovelace' },
        same: true,
        userId: 'ada',
      });
    }
    expect(lookups).toEqual(['ada', 'ada']); // two requests, two parameters each
  });

  it('is undefined on a public route without a session, and 401 for a session without a user', async () => {
    await request(app.getHttpServer()).get('/maybe').expect(200, { signedIn: false });
    const { token } = await app.get(SessionService).create('ghost');
    await request(app.getHttpServer())
      .get('/profile')
      .set('authorization', `Bearer ${token}`)
      .expect(401);
  });
});
