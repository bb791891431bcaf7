import { decodeData } from '../session-data';
import type { Session } from '../session.types';
import { SESSION_FIELD as F } from './session-fields';

/** A flat reply (name, value, name, value…) as a record, from index `from` on. */
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
    userId: record[F.userId],
    data: decodeData(record),
    csrfToken: record[F.csrfToken],
    createdAt: Number(record[F.createdAt]),
    lastAccessedAt,
    expiresAt,
    absoluteExpiresAt: Number(record[F.absoluteExpiresAt]),
  };
  if (record[F.userAgent]) session.userAgent = record[F.userAgent];
  if (record[F.ip]) session.ip = record[F.ip];
  if (record[F.deviceLabel]) session.deviceLabel = record[F.deviceLabel];
  return session;
}
