/**
 * Our library in the smallest Nest app, as the README shows it (SessionModule.forRoot + SessionGuard
 * as APP_GUARD), with nothing else: the same shape as bench/peers/seed-nest-app.ts, so the two
 * differ only in the session layer. Not a target of the issue (that is apps/api); it separates
 * what the library costs per request from what the reference app adds. PORT, REDIS_URL.
 *   POST /login {userId}  → 201, Set-Cookie session_id
 *   GET  /me              → 200 {userId} behind our guard
 *   GET  /ping            → no I/O
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post, Res } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Response } from 'express';
import {
  CurrentUser,
  Public,
  SessionCookies,
  SessionErrorFilter,
  SessionGuard,
  SessionModule,
  SessionService,
} from '@app/session';

@Controller()
class LibraryController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
  ) {}

  @Public()
  @Get('ping')
  ping(): { pong: true } {
    return { pong: true };
  }

  @Public()
  @Post('login')
  async login(
    @Body() body: { userId?: unknown },
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ sessionId: string }> {
    const userId = typeof body?.userId === 'string' ? body.userId : 'anonymous';
    const created = await this.sessions.create(userId, { roles: ['user'] });
    this.cookies.set(response, created.token);
    return { sessionId: created.sessionId };
  }

  @Get('me')
  me(@CurrentUser() userId: string): { userId: string } {
    return { userId };
  }
}

@Module({
  imports: [
    SessionModule.forRoot({
      redis: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      cookie: { secure: false },
    }),
  ],
  controllers: [LibraryController],
  providers: [{ provide: APP_GUARD, useExisting: SessionGuard }],
})
class LibraryAppModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(LibraryAppModule, {
    logger: ['error', 'warn'],
  });
  app.useGlobalFilters(new SessionErrorFilter());
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']); // not SIGUSR2: it toggles the profiler
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
