/**
 * Scrubs anything token-shaped out of what a request line logs (url, params, query): a session
 * token `<sessionId>.<secret>` sent in a path (`DELETE /sessions/<token>` by mistake) or a query
 * string would otherwise be written verbatim. The header redaction in logger.options.ts cannot
 * see those; this goes by shape instead of by name.
 */
export const SCRUBBED = '[Redacted]';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** Our token (token.ts): the session id stays (a public handle, logged anyway), the secret goes. */
const TOKEN = new RegExp(`(\\d{1,4}-${UUID})\\.[A-Za-z0-9_-]+`, 'gi');
/** Runs of base64url characters long enough to be someone else's secret (ours are 43). */
const RUN = /[A-Za-z0-9_-]{32,}/g;
/** Public handles that may stay: a session id `<partition>-<uuid>` or a bare UUID. */
const PUBLIC_HANDLE = new RegExp(`^(\\d{1,4}-)?${UUID}$`, 'i');

/**
 * A long run is taken for a secret unless it is a public handle or reads like words: random
 * base64url or hex has digits, or mixes cases; `a-long-lower-case-route-name` has neither.
 */
function scrubRun(run: string): string {
  if (PUBLIC_HANDLE.test(run)) return run;
  const highEntropy = /[0-9]/.test(run) || (/[a-z]/.test(run) && /[A-Z]/.test(run));
  return highEntropy ? SCRUBBED : run;
}

export function scrubText(text: string): string {
  return text.replace(TOKEN, `$1.${SCRUBBED}`).replace(RUN, scrubRun);
}

/** The same for every string in a (query or params) object, keys included, at any depth. */
export function scrubValues(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => scrubValues(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [scrubText(key), scrubValues(item, depth + 1)]),
  );
}
