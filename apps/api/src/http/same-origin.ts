/** The parts of a request the same-origin rule reads. */
export interface OriginHeaders {
  origin?: string;
  secFetchSite?: string;
  /** `<protocol>://<host>` of the request as this server sees it (see TRUST_PROXY). */
  ownOrigin: string;
}

/**
 * Whether a browser sent this request from a page of ours (or of an allowed origin). Browsers
 * set `Sec-Fetch-Site` and `Origin` themselves (a page cannot forge them), so:
 *
 * - `Sec-Fetch-Site: same-origin` → ours;
 * - an `Origin` → ours when it is this server's origin or an allowed one (`null`, sent by
 *   sandboxed frames and some redirects, never is);
 * - no `Origin`: `Sec-Fetch-Site: cross-site` or `same-site` → not ours; nothing at all → a
 *   non-browser client (curl, a server, a mobile app), which carries no victim's cookies: allowed.
 */
export function isSameOriginRequest(
  headers: OriginHeaders,
  allowedOrigins: ReadonlySet<string>,
): boolean {
  const site = headers.secFetchSite?.toLowerCase();
  if (site === 'same-origin') return true;
  const origin = headers.origin;
  if (origin !== undefined) {
    const normalized = origin.toLowerCase();
    return (
      normalized !== 'null' &&
      (normalized === headers.ownOrigin.toLowerCase() || allowedOrigins.has(normalized))
    );
  }
  return site !== 'cross-site' && site !== 'same-site';
}
