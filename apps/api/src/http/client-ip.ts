import type { HttpRequest } from './http-request';

/**
 * The client address as the adapter sees it: the socket's peer, or the address X-Forwarded-For
 * gives as far as TRUST_PROXY (Express's `trust proxy`, Fastify's `trustProxy`) trusts the hops.
 */
export function clientIp(request: HttpRequest): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}
