import type { Request } from 'express';

/**
 * The client address as Express sees it: the socket's peer, or the address X-Forwarded-For gives
 * as far as TRUST_PROXY (Express's `trust proxy`, set in configureApp) trusts the hops.
 */
export function clientIp(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}
