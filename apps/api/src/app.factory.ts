import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { SessionErrorFilter } from '@app/session';
import type { Logger as PinoRootLogger } from 'pino';
import { API_CONFIG, ROOT_LOGGER } from './api.constants';
import { AppModule, type AppModuleOptions } from './app.module';
import type { ApiConfig } from './config';
import { DOCS_PATH, setupSwagger } from './docs/swagger';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { endpointAccess } from './http/endpoint-access';
import { noStore } from './http/no-store';
import { securityHeaders } from './http/security-headers';
import { requestLogging } from './logging/request-logging';

export type CreateAppOptions = AppModuleOptions;

/**
 * Everything that is set on the app instance rather than in modules. main.ts and the e2e tests
 * both go through createApp, so they run the same app.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get<ApiConfig>(API_CONFIG);
  app.useLogger(app.get(Logger));
  // Before Nest's own middleware: nestjs-pino's request context picks up the request's logger.
  app.use(requestLogging(app.get<PinoRootLogger>(ROOT_LOGGER)));
  app.disable('x-powered-by');
  // Behind a load balancer, the client address (login limits, logs) comes from X-Forwarded-For
  // as far as TRUST_PROXY says; otherwise every client would share the balancer's address.
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  app.use(noStore);
  app.use(securityHeaders(DOCS_PATH));
  app.use('/metrics', endpointAccess(config.metrics, 'metrics'));
  for (const path of [DOCS_PATH, `${DOCS_PATH}-json`, `${DOCS_PATH}-yaml`]) {
    app.use(`/${path}`, endpointAccess(config.docs, 'docs'));
  }
  // Filters are tried last-registered first: session errors → their 4xx/503, anything else →
  // Nest's shape with client errors kept 4xx.
  app.useGlobalFilters(new ApiExceptionFilter(app.getHttpAdapter()), new SessionErrorFilter(app.getHttpAdapter()));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  if (config.docs.enabled) setupSwagger(app);
}

/** Builds the api (not yet listening); throws ConfigError on a bad USERS_FILE. */
export async function createApp(
  config: ApiConfig,
  options: CreateAppOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    // JSON bodies are parsed by JsonBodyMiddleware, after the logger and metrics middleware.
    bodyParser: false,
    bufferLogs: true,
    // Start-up errors are thrown to the caller instead of aborting the process.
    abortOnError: false,
  });
  configureApp(app);
  return app;
}
