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

/** Why a request may not see the endpoint: the answer to give instead. */
export interface AccessRefusal {
  status: 401 | 404;
  body: { statusCode: number; message: string; error: string };
  headers: Record<string, string>;
}

/**
 * The access rule of an operations endpoint: 404 when it is off (as if it did not exist), 401
 * without the right token when one is set. Basic auth (any user name, the token as password) lets
 * a browser open /docs; Prometheus sends either scheme. Compared in constant time. Returns the
 * refusal, or null to serve the request.
 */
export function accessCheck(
  access: EndpointAccess,
  realm: string,
): (authorization: string | undefined) => AccessRefusal | null {
  const expected = access.enabled && access.token ? digest(access.token) : null;
  const notFound: AccessRefusal = {
    status: 404,
    body: { statusCode: 404, message: 'Not Found', error: 'Not Found' },
    headers: {},
  };
  const unauthorized: AccessRefusal = {
    status: 401,
    body: { statusCode: 401, message: `${realm} needs its access token`, error: 'Unauthorized' },
    headers: { 'WWW-Authenticate': `Basic realm="${realm}", charset="UTF-8"` },
  };
  return (authorization) => {
    if (!access.enabled) return notFound;
    if (expected === null) return null;
    const presented = presentedToken(authorization);
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return null;
    return unauthorized;
  };
}

/** The access rule as Express middleware in front of the endpoint. */
export function endpointAccess(access: EndpointAccess, realm: string) {
  const check = accessCheck(access, realm);
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const refusal = check(request.headers.authorization);
    if (!refusal) return next();
    response.statusCode = refusal.status;
    for (const [name, value] of Object.entries(refusal.headers)) response.setHeader(name, value);
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.end(JSON.stringify(refusal.body));
  };
}
