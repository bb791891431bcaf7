import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import type { SessionRequest } from '@app/session';
import type { ApiConfig } from '../config';
import { ALL_ROUTES } from '../http/all-routes';

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

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function requestId(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  response.setHeader('x-request-id', id);
  return id;
}

/** nestjs-pino parameters: one JSON line per request, secrets redacted. */
export function loggerParams(config: ApiConfig, destination?: DestinationStream): Params {
  const options: Options = {
    level: config.logLevel,
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    genReqId: requestId,
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    // The session handle is public (it is in URLs and events); the token never is.
    customProps: (request) => {
      const session = (request as IncomingMessage & SessionRequest).session;
      return session ? { userId: session.userId, sessionId: session.sessionId } : {};
    },
  };
  return { pinoHttp: destination ? [options, destination] : options, forRoutes: [ALL_ROUTES] };
}
