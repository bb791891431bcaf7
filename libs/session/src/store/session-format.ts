/**
 * The storage format a process writes, settled per deployment under `<prefix>:deployment`
 * (field `format`, see scripts/claimSessionFormat-1.lua). Every release reads every format up to
 * its own; it writes the deployment's, so a rolling deploy never writes what a running process of
 * the previous release cannot read.
 *
 *   1  the secret hash as 64 hex characters; session.created with long names and absolute times
 *   2  the secret hash as 32 raw bytes; session.created compact (short names, times relative to
 *      createdAt, no type or time: the stream entry's pattern and id carry them)
 *
 * A new deployment starts at the newest format; one that predates the setting stays at 1 until
 * every process runs a release that reads 2, then `SessionStore.raiseFormat(2)` (README).
 */
export type SessionFormat = 1 | 2;

export const NEWEST_SESSION_FORMAT: SessionFormat = 2;

export function toSessionFormat(stored: unknown): SessionFormat {
  const format = Number(stored);
  return format === 2 ? 2 : 1;
}

/** The secret digest as the format stores it. */
export function storedDigest(hexDigest: string, format: SessionFormat): string | Buffer {
  return format === 2 ? Buffer.from(hexDigest, 'hex') : hexDigest;
}
