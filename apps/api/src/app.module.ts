import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { ProcessLiveness, sessionOptionsFromEnv } from '@app/config';
import { SessionGuard, SessionModule, type SessionModuleOptions } from '@app/session';
import { AdminController } from './admin/admin.controller';
import { API_CONFIG, ROOT_LOGGER } from './api.constants';
import { AuthController } from './auth/auth.controller';
import { LoginRateLimiter } from './auth/login-rate-limiter';
import type { ApiConfig } from './config';
import { HealthModule } from './health/health.module';
import { ProbesController } from './health/probes.controller';
import { ALL_ROUTES } from './http/all-routes';
import { CrossSiteCookieWritesMiddleware, CrossSiteRequests } from './http/cross-site-requests';
import { GracefulShutdown } from './http/graceful-shutdown';
import { JsonBodyMiddleware } from './http/json-body.middleware';
import { createRootLogger, loggerParams } from './logging/logger.options';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsModule } from './metrics/metrics.module';
import { PingController } from './ping/ping.controller';
import { SessionsController } from './sessions/sessions.controller';
import { UsersRepository } from './users/users.repository';

export interface AppModuleOptions {
  /** Where log lines go (default stdout); tests pass a stream to read them. */
  logDestination?: DestinationStream;
}

export function sessionOptions(config: ApiConfig): SessionModuleOptions {
  return { ...sessionOptionsFromEnv(config), cookie: { secure: config.cookieSecure } };
}

@Module({})
export class AppModule implements NestModule {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  static forRoot(config: ApiConfig, options: AppModuleOptions = {}): DynamicModule {
    const logger = createRootLogger(config, options.logDestination);
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(logger)),
        SessionModule.forRoot(sessionOptions(config)),
        MetricsModule,
        HealthModule,
      ],
      controllers: [
        AuthController,
        SessionsController,
        AdminController,
        PingController,
        ProbesController,
      ],
      providers: [
        // In the root module: its destroy hook runs first on shutdown (readiness 503 at once),
        // then waits SHUTDOWN_DELAY_MS while the api still serves.
        {
          provide: ProcessLiveness,
          useFactory: () => new ProcessLiveness({ drainDelayMs: config.shutdownDelayMs }),
        },
        { provide: API_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: UsersRepository, useFactory: () => UsersRepository.load(config.usersFile) },
        LoginRateLimiter,
        CrossSiteRequests,
        CrossSiteCookieWritesMiddleware,
        GracefulShutdown,
        { provide: APP_GUARD, useExisting: SessionGuard },
      ],
    };
  }

  /**
   * Order matters: request logging (mounted in configureApp, before every Nest middleware), then
   * nestjs-pino's request context (a global module's, so mounted first), then the metrics, then
   * the cross-site check (before reading a body it would refuse), then the JSON body parser, so
   * that refused requests and bodies are logged and counted like any request. On Fastify the same
   * run as hooks (configureFastifyApp): no middleware, so no @fastify/middie on every request.
   */
  configure(consumer: MiddlewareConsumer): void {
    if (this.config.httpAdapter !== 'express') return;
    consumer
      .apply(HttpMetricsMiddleware, CrossSiteCookieWritesMiddleware, JsonBodyMiddleware)
      .forRoutes(ALL_ROUTES);
  }
}
