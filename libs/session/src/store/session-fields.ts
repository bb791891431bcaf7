/**
 * Field names of the session hash. Short, because every live session pays for them in memory.
 * The Lua side reads the same names in scripts/includes/readSessionState.lua (every field that is
 * not a data field must be listed there: the scripts count data keys as HLEN minus those fields).
 */
export const SESSION_FIELD = {
  userId: 'uid',
  /** SHA-256 of the token's secret: 64 hex characters (format 1) or 32 raw bytes (format 2). */
  secretHash: 'sh',
  csrfToken: 'csrf',
  createdAt: 'ca',
  lastAccessedAt: 'la',
  /** Idle TTL in ms (the session's own, so a config change does not shorten live sessions). */
  idleTtlMs: 'it',
  absoluteExpiresAt: 'ax',
  dataBytes: 'db',
  /** The revoke-all epoch a revoke-others kept this session through. */
  keptThrough: 'kt',
  userAgent: 'ua',
  ip: 'ip',
  deviceLabel: 'dev',
} as const;

export type SessionFieldName = (typeof SESSION_FIELD)[keyof typeof SESSION_FIELD];
