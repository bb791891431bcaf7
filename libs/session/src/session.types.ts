/** JSON value stored in a session. */
export type SessionValue =
  string | number | boolean | null | SessionValue[] | { [key: string]: SessionValue };

/** Application data of a session: a flat map of JSON values (patches merge at the top level). */
export type SessionData = Record<string, SessionValue>;

/** Where a session was opened from; shown in a user's device list. */
export interface SessionMeta {
  userAgent?: string;
  ip?: string;
  deviceLabel?: string;
}

/** A live session as validation returns it. Times are epoch milliseconds (Redis clock). */
export interface Session extends SessionMeta {
  sessionId: string;
  userId: string;
  data: SessionData;
  csrfToken: string;
  createdAt: number;
  lastAccessedAt: number;
  /** When the session ends if unused: min(last access + idle TTL, absolute expiry). */
  expiresAt: number;
  absoluteExpiresAt: number;
}

/** What `create()` returns. The token is shown once: only its hash is stored. */
export interface CreatedSession {
  sessionId: string;
  token: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

/** What `rotate()` returns: a new handle and token for the same session data. */
export interface RotatedSession extends CreatedSession {
  previousSessionId: string;
}

export type InvalidSessionReason =
  'malformed' | 'unknown' | 'bad_secret' | 'idle_expired' | 'absolute_expired' | 'revoked';

export type ValidationResult =
  { valid: true; session: Session } | { valid: false; reason: InvalidSessionReason };

export type RevocationReason =
  'logout' | 'revoked' | 'rotated' | 'limit' | 'admin' | 'expired' | (string & {});
