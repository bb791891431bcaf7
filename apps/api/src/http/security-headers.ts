import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

type Middleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Everything but the docs is JSON: nothing may load, run or frame it. */
const API_CSP = {
  defaultSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * Swagger UI: its scripts and styles come from the app itself (no inline script: Nest serves the
 * init code as swagger-ui-init.js), but its page has inline <style> blocks and data: icons, and
 * "Try it out" calls the api.
 */
const DOCS_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

function headers(directives: Record<string, string[]>): Middleware {
  return helmet({
    // useDefaults false: helmet's upgrade-insecure-requests would break /docs on plain-http dev.
    contentSecurityPolicy: { useDefaults: false, directives },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * helmet's security headers on every answer (nosniff, frame and referrer policy, HSTS, CORP/COOP,
 * …) with a CSP per kind of page: `none` for the JSON api, what Swagger UI needs under `docsPath`.
 */
export function securityHeaders(docsPath: string): Middleware {
  const api = headers(API_CSP);
  const docs = headers(DOCS_CSP);
  const docsPrefix = `/${docsPath}`;
  return (request, response, next) => {
    const url = request.url ?? '/';
    const isDocs =
      url === docsPrefix || url.startsWith(`${docsPrefix}/`) || url.startsWith(`${docsPrefix}?`);
    (isDocs ? docs : api)(request, response, next);
  };
}
