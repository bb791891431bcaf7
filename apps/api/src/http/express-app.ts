import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoRootLogger } from 'pino';
import { API_CONFIG, ROOT_LOGGER } from '../api.constants';
import type { ApiConfig } from '../config';
import { DOCS_PATH } from '../docs/swagger';
import { requestLogging } from '../logging/request-logging';
import { endpointAccess } from './endpoint-access';
import { noStore } from './no-store';
import { securityHeaders } from './security-headers';

/**
 * The Express side of configureApp: the middleware that runs before Nest's own (request logging,
 * no-store, security headers, /metrics and /docs access) and Express's settings. The rest of the
 * middleware (metrics, cross-site check, JSON body) is mounted by AppModule.configure.
 */
export function configureExpressApp(app: NestExpressApplication): void {
  const config = app.get<ApiConfig>(API_CONFIG);
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
}
