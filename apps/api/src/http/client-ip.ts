import type { Request } from 'express';

/** The client address as Express sees it (honours `trust proxy` if an operator sets it). */
export function clientIp(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}
