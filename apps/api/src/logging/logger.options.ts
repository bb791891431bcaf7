import type { Params } from 'nestjs-pino';
import { type DestinationStream, type Logger, stdSerializers } from 'pino';
import { createRootLogger as createProcessLogger } from '@app/config';

export { REDACTED, REDACTED_PATHS } from '@app/config';
import type { ApiConfig } from '../config';
import { requestContext } from './request-logging';
import { scrubText, scrubValues } from './scrub-secrets';

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
  return createProcessLogger(
    config,
    {
      mixin: requestContext,
      serializers: { req: requestSerializer, res: stdSerializers.res, err: stdSerializers.err },
    },
    destination,
  );
}

/**
 * nestjs-pino parameters: Nest's and the app's logs go to `root`. No nestjs-pino middleware
 * (`forRoutes: []`): requestLogging, mounted in configureApp, writes the request lines and keeps
 * the request id in context for the root logger's mixin.
 */
export function loggerParams(root: Logger): Params {
  return { pinoHttp: { logger: root }, useExisting: true, forRoutes: [] };
}
