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

type HeaderSet = Readonly<Record<string, string>>;

/**
 * The headers helmet sets with these options. They do not depend on the request, so helmet runs
 * once at start-up against a recording response and every answer gets the recorded set: the
 * same headers on Express and Fastify, without running helmet's dozen middleware per request.
 */
function helmetHeaders(directives: Record<string, string[]>): HeaderSet {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | string[]) => {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => delete headers[name],
    getHeader: (name: string) => headers[name],
  };
  let done = false;
  helmet({
    // useDefaults false: helmet's upgrade-insecure-requests would break /docs on plain-http dev.
    contentSecurityPolicy: { useDefaults: false, directives },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  })({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('helmet failed');
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously: headers cannot be precomputed');
  return Object.freeze(headers);
}

/**
 * helmet's security headers (nosniff, frame and referrer policy, HSTS, CORP/COOP, …) with a CSP
 * per kind of page: `none` for the JSON api, what Swagger UI needs under `docsPath`. Returns the
 * set for a request URL.
 */
export function securityHeaderSets(docsPath: string): (url: string) => HeaderSet {
  const api = helmetHeaders(API_CSP);
  const docs = helmetHeaders(DOCS_CSP);
  const docsPrefix = `/${docsPath}`;
  return (url) =>
    url.startsWith(docsPrefix) &&
    (url.length === docsPrefix.length ||
      url[docsPrefix.length] === '/' ||
      url[docsPrefix.length] === '?')
      ? docs
      : api;
}

/** The headers as Express middleware. */
export function securityHeaders(docsPath: string): Middleware {
  const headersFor = securityHeaderSets(docsPath);
  return (request, response, next) => {
    const headers = headersFor(request.url ?? '/');
    for (const name in headers) response.setHeader(name, headers[name]);
    next();
  };
}
