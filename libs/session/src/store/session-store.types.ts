import type { InvalidSessionReason, SessionMeta } from '../session.types';

/** What `SessionStore.create` writes, all of it prepared (hashed, encoded) by the service. */
export interface NewSessionRecord {
  sessionId: string;
  partition: number;
  userId: string;
  secretHash: string;
  csrfToken: string;
  dataBytes: number;
  /** Encoded data as alternating hash field names and values. */
  dataFields: string[];
  meta: Required<SessionMeta>;
  /** The session's own idle TTL, when not the deployment's (a middleware store's `ttl`). */
  idleTtlMs?: number;
}

export interface SessionTimes {
  createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

/** A script's reply: its value, or why it refused. */
export type ScriptOutcome<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      reason: InvalidSessionReason | 'exists' | 'too_large' | 'too_many_keys';
      detail?: number;
    };

/** The fields of a stored session a device list or a projection needs (never its data). */
export interface StoredSessionRow extends SessionMeta {
  sessionId: string;
  userId: string;
  createdAt: number;
  lastAccessedAt: number;
  idleTtlMs: number;
  absoluteExpiresAt: number;
  /** The revoke-all epoch a revoke-others kept this session through, or null. */
  keptThrough: number | null;
}

/** A user's stored sessions (null where the index names one that is gone) and their epoch. */
export interface UserSessionRows {
  revokedBefore: number | null;
  rows: (StoredSessionRow | null)[];
}

export type SweepOutcome = 'alive' | 'expired' | 'absent';

/** A rate-limit counter and the count at which it refuses. */
export interface CounterLimit {
  key: string;
  limit: number;
}

export type Reservation =
  { counted: true } | { counted: false; index: number; retryAfterMs: number };

/** One retained stream entry: id, pattern (the event type) and the event's JSON (if any). */
export interface StoredEventEntry {
  id: string;
  pattern: string;
  json: string | undefined;
}
