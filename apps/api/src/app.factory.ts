import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { SessionErrorFilter } from '@app/session';
import { API_CONFIG } from './api.constants';
import { AppModule, type AppModuleOptions } from './app.module';
import type { ApiConfig } from './config';
import { setupSwagger } from './docs/swagger';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { configureExpressApp } from './http/express-app';
import { configureFastifyApp, fastifyAdapter } from './http/fastify-app';

export type CreateAppOptions = AppModuleOptions;

/**
 * Everything that is set on the app instance rather than in modules, on either adapter. main.ts
 * and the e2e tests both go through createApp, so they run the same app.
 */
export function configureApp(app: INestApplication): void {
  const config = app.get<ApiConfig>(API_CONFIG);
  app.useLogger(app.get(Logger));
  if (config.httpAdapter === 'fastify') configureFastifyApp(app as NestFastifyApplication);
  else configureExpressApp(app as NestExpressApplication);
  // Filters are tried last-registered first: session errors → their 4xx/503, anything else →
  // Nest's shape with client errors kept 4xx.
  app.useGlobalFilters(
    new ApiExceptionFilter(app.getHttpAdapter()),
    new SessionErrorFilter(app.getHttpAdapter()),
  );
  // Exit code 0 after a clean stop (process.exit(), 'exit' handlers run) rather than death by
  // the re-raised signal: a supervisor tells a clean stop from a crash by the code.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  if (config.docs.enabled) setupSwagger(app);
}

/** Builds the api (not yet listening) on HTTP_ADAPTER; throws ConfigError on a bad USERS_FILE. */
export async function createApp(
  config: ApiConfig,
  options: CreateAppOptions = {},
): Promise<INestApplication> {
  const module = AppModule.forRoot(config, options);
  const appOptions = {
    // JSON bodies are parsed by our own parser (JsonBodyMiddleware, useJsonBodies), after the
    // request is logged and counted.
    bodyParser: false,
    bufferLogs: true,
    // Start-up errors are thrown to the caller instead of aborting the process.
    abortOnError: false,
  };
  const app =
    config.httpAdapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(module, fastifyAdapter(config), appOptions)
      : await NestFactory.create<NestExpressApplication>(module, appOptions);
  configureApp(app);
  return app;
}
