import type { IncomingSessionRequest } from '../session-request';

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether a cookie-authenticated WebSocket handshake comes from the page's own site: its
 * `Origin` is the handshake's own host (either scheme) or one of `allowedOrigins`. Browsers
 * always send `Origin` on a WebSocket handshake; a client without one is not a browser and
 * carries no victim's cookie.
 */
export function sameOriginHandshake(
  headers: IncomingSessionRequest['headers'],
  allowedOrigins: readonly string[],
): boolean {
  const origin = first(headers.origin);
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (allowedOrigins.some((allowed) => allowed.toLowerCase() === parsed.origin.toLowerCase()))
    return true;
  const host = first(headers['x-forwarded-host']) ?? first(headers.host);
  return host !== undefined && parsed.host.toLowerCase() === host.toLowerCase();
}
