import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Logger as PinoRootLogger } from 'pino';
import type { SessionRequest } from '@app/session';
import { API_CONFIG, ROOT_LOGGER } from '../api.constants';
import type { ApiConfig } from '../config';
import { DOCS_PATH } from '../docs/swagger';
import { enterRequestContext, logWhenDone, requestIdOf } from '../logging/request-logging';
import { UNMATCHED_ROUTE } from '../metrics/http-metrics.middleware';
import { MetricsService } from '../metrics/metrics.service';
import { CrossSiteCookieWritesMiddleware } from './cross-site-requests';
import { accessCheck } from './endpoint-access';
import { answerClientError } from './fastify-client-errors';
import { useJsonBodies } from './fastify-json-body';
import { securityHeaderSets } from './security-headers';

/**
 * The Fastify adapter with the api's settings: TRUST_PROXY as `trustProxy` (the same hop count or
 * addresses as Express's `trust proxy`), the request id from a sane `x-request-id`, and Fastify's
 * own logger off (the api logs every request itself, the same lines as on Express).
 */
export function fastifyAdapter(config: ApiConfig): FastifyAdapter {
  const adapter = new FastifyAdapter({
    trustProxy: config.trustProxy === false ? false : config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdOf,
    logger: false,
    clientErrorHandler: answerClientError,
    // Fastify answers 414 to a path parameter over 100 characters; Express has no such limit, and
    // a malformed id is the handler's to refuse (404, 400) like any other.
    routerOptions: { maxParamLength: 2048 },
    // Errors Fastify answers before routing (a bad percent-encoding) in Nest's error shape.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode ?? 400;
      void reply
        .code(status)
        .send({ statusCode: status, message: error.message, error: STATUS_CODES[status] });
    },
  });
  const fastify = adapter.getInstance();
  // Before Nest registers its plugins, so every context it creates copies these parsers.
  useJsonBodies(fastify, config.bodyLimitBytes);
  // The fields the session guard sets, declared up front: every request object keeps one shape
  // (Fastify's advice), instead of guarded requests growing three properties.
  for (const field of ['session', 'sessionAuth', 'sessionToken'] as const) {
    fastify.decorateRequest(field, undefined);
  }
  return adapter;
}

/**
 * What Express gets as middleware (configureExpressApp, AppModule.configure), here as Fastify
 * hooks, which cost less per request than middleware run through @fastify/middie: request id and
 * log line, `Cache-Control: no-store`, security headers, the /metrics and /docs access rules, the
 * cross-site check on cookie writes, metrics, and the JSON body rules.
 */
export function configureFastifyApp(app: NestFastifyApplication): void {
  const config = app.get<ApiConfig>(API_CONFIG);
  const root = app.get<PinoRootLogger>(ROOT_LOGGER);
  const metrics = app.get(MetricsService);
  const crossSite = app.get(CrossSiteCookieWritesMiddleware);
  const fastify = app.getHttpAdapter().getInstance();
  const securityHeadersFor = securityHeaderSets(DOCS_PATH);
  const metricsAccess = accessCheck(config.metrics, 'metrics');
  const docsAccess = accessCheck(config.docs, 'docs');
  const docsPaths = [DOCS_PATH, `${DOCS_PATH}-json`, `${DOCS_PATH}-yaml`].map((path) => `/${path}`);

  fastify.addHook('onRequest', (request, reply, done) => {
    enterRequestContext(request.id);
    logWhenDone(root, request.id, request as unknown as SessionRequest, reply.raw, () => ({
      statusCode: reply.statusCode,
      headersSent: true,
      getHeaders: () => reply.getHeaders(),
    }));
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    reply.headers(securityHeadersFor(request.url));
    const url = request.url;
    const check = isUnder(url, '/metrics')
      ? metricsAccess
      : docsPaths.some((path) => isUnder(url, path))
        ? docsAccess
        : null;
    const refusal = check?.(request.headers.authorization);
    if (refusal) {
      reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
      return;
    }
    try {
      crossSite.checkRequest(request);
    } catch (error) {
      return done(error as Error);
    }
    done();
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}

/** Whether `url` is `path` or below it, as Express's `app.use(path, …)` matches. */
function isUnder(url: string, path: string): boolean {
  if (!url.startsWith(path)) return false;
  const next = url[path.length];
  return next === undefined || next === '/' || next === '?';
}
