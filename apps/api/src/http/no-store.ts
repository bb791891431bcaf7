import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Every answer of this api is per-session (tokens, CSRF tokens, session data, the caller's
 * devices) or live (health, metrics): no browser, proxy or CDN may keep a copy. `no-store` says
 * so for all of them; hence no ETag either (express would hash every body for validators that
 * can never be used).
 */
export function noStore(
  _request: IncomingMessage,
  response: ServerResponse,
  next: () => void,
): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}
