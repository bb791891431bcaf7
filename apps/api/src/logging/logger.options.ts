import type { Params } from 'nestjs-pino';
import {
  type DestinationStream,
  type Logger,
  type LoggerOptions,
  pino,
  stdSerializers,
} from 'pino';
import type { ApiConfig } from '../config';
import { requestContext } from './request-logging';
import { scrubText, scrubValues } from './scrub-secrets';

/**
 * Everything secret that can reach a log line: the session token (cookie, x-session-id header,
 * bearer header, the Set-Cookie answer), the CSRF token and passwords. Paths follow pino's redact
 * syntax; the generic ones cover objects an app logs by hand (`logger.info({ token })`).
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-session-id"]',
  'req.headers["x-csrf-token"]',
  'req.headers["proxy-authorization"]',
  'req.query.token',
  'req.body',
  'res.headers["set-cookie"]',
  'password',
  'token',
  'csrfToken',
  'sessionToken',
  'cookie',
  'authorization',
  '*.password',
  '*.token',
  '*.csrfToken',
  '*.sessionToken',
  '*.cookie',
  '*.authorization',
];

export const REDACTED = '[Redacted]';

/** pino's request serializer, with anything token-shaped scrubbed from the url, params and query. */
export function requestSerializer(
  request: Parameters<typeof stdSerializers.req>[0],
): ReturnType<typeof stdSerializers.req> {
  const serialized = stdSerializers.req(request);
  if (typeof serialized.url === 'string') serialized.url = scrubText(serialized.url);
  serialized.query = scrubValues(serialized.query) as typeof serialized.query;
  serialized.params = scrubValues(serialized.params) as typeof serialized.params;
  return serialized;
}

/**
 * The api's one pino logger: app logs and request lines, secrets redacted by name (headers,
 * fields) and by shape (tokens in urls, params and query: see scrub-secrets.ts).
 */
export function createRootLogger(config: ApiConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    mixin: requestContext,
    serializers: {
      req: requestSerializer,
      res: stdSerializers.res,
      err: stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * nestjs-pino parameters: Nest's and the app's logs go to `root`. No nestjs-pino middleware
 * (`forRoutes: []`): requestLogging, mounted in configureApp, writes the request lines and keeps
 * the request id in context for the root logger's mixin.
 */
export function loggerParams(root: Logger): Params {
  return { pinoHttp: { logger: root }, useExisting: true, forRoutes: [] };
}
