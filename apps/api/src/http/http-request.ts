import type { IncomingHttpHeaders } from 'node:http';

/**
 * The part of a request the api reads, common to Express's Request and Fastify's request (both
 * resolve `protocol` and `ip` through their trust-proxy setting, see TRUST_PROXY).
 */
export interface HttpRequest {
  method: string;
  headers: IncomingHttpHeaders;
  protocol: string;
  ip?: string;
  socket: { remoteAddress?: string };
}

/** The first value of a header that may be repeated. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
