import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How an operations endpoint (/metrics, /docs) is exposed: off, open, or behind a token. */
export type EndpointAccess = { enabled: false } | { enabled: true; token: string | undefined };

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The token of `Authorization: Bearer <token>` or the password of Basic auth (browsers). */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

function answer(response: ServerResponse, status: number, message: string, error: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(JSON.stringify({ statusCode: status, message, error }));
}

/**
 * Express middleware in front of an operations endpoint: 404 when it is off (as if it did not
 * exist), 401 without the right token when one is set. Basic auth (any user name, the token as
 * password) lets a browser open /docs; Prometheus sends either scheme. Compared in constant time.
 */
export function endpointAccess(access: EndpointAccess, realm: string) {
  const expected = access.enabled && access.token ? digest(access.token) : null;
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    if (!access.enabled) return answer(response, 404, 'Not Found', 'Not Found');
    if (expected === null) return next();
    const presented = presentedToken(request.headers.authorization);
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    response.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    answer(response, 401, `${realm} needs its access token`, 'Unauthorized');
  };
}
