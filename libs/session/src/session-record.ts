import { decodeData } from './session-data';
import type { Session } from './session.types';

/**
 * Field names of the session hash. Short, because every live session pays for them in memory.
 *   uid user id · sh SHA-256 of the secret · csrf CSRF token · ca created at · la last accessed at
 *   it idle TTL ms · ax absolute expiry · db data bytes · kt kept through epoch (revoke-others)
 *   ua user agent · ip ip · dev device label · d:<key> one JSON value of the data
 * Every field that is not `d:<key>` must also be listed in scripts/includes/readSessionState.lua:
 * the scripts count data keys as HLEN minus the fields listed there.
 */
export function flatToRecord(flat: readonly (string | number)[], from = 0): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = from; i + 1 < flat.length; i += 2) record[String(flat[i])] = String(flat[i + 1]);
  return record;
}

export function recordToSession(
  sessionId: string,
  record: Record<string, string>,
  lastAccessedAt: number,
  expiresAt: number,
): Session {
  const session: Session = {
    sessionId,
    userId: record.uid,
    data: decodeData(record),
    csrfToken: record.csrf,
    createdAt: Number(record.ca),
    lastAccessedAt,
    expiresAt,
    absoluteExpiresAt: Number(record.ax),
  };
  if (record.ua) session.userAgent = record.ua;
  if (record.ip) session.ip = record.ip;
  if (record.dev) session.deviceLabel = record.dev;
  return session;
}
