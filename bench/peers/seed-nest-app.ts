/**
 * A Nest app built from the seed recipe: its SessionService and SessionGuard (bench/peers/seed-*),
 * cookie-parser for the guard's `request.cookies`. Run as its own process: PORT, REDIS_URL.
 *   POST /login {userId}  → 201 {sessionId}, Set-Cookie session_id
 *   GET  /me              → 200 {userId} behind the seed's guard (GET + SET per request)
 *   GET  /ping            → no I/O
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Module,
  type OnApplicationShutdown,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import type { Response } from 'express';
import { Redis } from 'ioredis';
import { SEED_CACHE, SeedCache } from './seed-cache';
import { type SeedRequest, SessionGuard } from './seed-session.guard';
import { SessionService } from './seed-session.service';

const SEED_REDIS = Symbol('SEED_REDIS');

@Controller()
class SeedController {
  constructor(private readonly sessions: SessionService) {}

  @Get('ping')
  ping(): { pong: true } {
    return { pong: true };
  }

  @Post('login')
  async login(
    @Body() body: { userId?: unknown },
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ sessionId: string }> {
    const userId = typeof body?.userId === 'string' ? body.userId : 'anonymous';
    const sessionId = await this.sessions.create(userId, { roles: ['user'] });
    response.cookie('session_id', sessionId, { httpOnly: true, sameSite: 'lax' });
    return { sessionId };
  }

  @UseGuards(SessionGuard)
  @Get('me')
  me(@Req() request: SeedRequest): { userId: string | undefined } {
    return { userId: request.session?.userId };
  }
}

class RedisCloser implements OnApplicationShutdown {
  constructor(private readonly redis: Redis) {}
  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

@Module({
  controllers: [SeedController],
  providers: [
    {
      provide: SEED_REDIS,
      useFactory: () => new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    },
    {
      provide: SEED_CACHE,
      useFactory: (redis: Redis) => new SeedCache(redis),
      inject: [SEED_REDIS],
    },
    {
      provide: RedisCloser,
      useFactory: (redis: Redis) => new RedisCloser(redis),
      inject: [SEED_REDIS],
    },
    SessionService,
    SessionGuard,
  ],
})
class SeedAppModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(SeedAppModule, {
    logger: ['error', 'warn'],
  });
  app.use(cookieParser());
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']); // not SIGUSR2: it toggles the profiler
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
