import { UnsupportedEventError } from './errors';

/**
 * Lifecycle events, as the Lua scripts append them to the partition streams (entry fields
 * `pattern` = type, `data` = JSON of the event). Events carry the session handle, never a token.
 */
export const SESSION_EVENT_SCHEMA_VERSION = 1;

interface EventBase {
  v: number;
  /** Redis time of the change, epoch ms. */
  at: number;
  userId: string;
}

export interface SessionCreatedEvent extends EventBase {
  type: 'session.created';
  sessionId: string;
  createdAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

export interface SessionUpdatedEvent extends EventBase {
  type: 'session.updated';
  sessionId: string;
  /** Names of the data keys changed (never their values). */
  keys: string[];
}

export interface SessionRotatedEvent extends EventBase {
  type: 'session.rotated';
  sessionId: string;
  previousSessionId: string;
  createdAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

export interface SessionRevokedEvent extends EventBase {
  type: 'session.revoked';
  sessionId: string;
  reason: string;
}

/** Written by the worker's expiry sweep when a session's idle or absolute expiry has passed. */
export interface SessionExpiredEvent extends EventBase {
  type: 'session.expired';
  sessionId: string;
}

export interface UserRevokedEvent extends EventBase {
  type: 'user.revoked';
  /** Every session created at or before this instant is revoked... */
  revokedBefore: number;
  /** ...except this one (revoke-others). */
  exceptSessionId?: string;
}

export type SessionEvent =
  | SessionCreatedEvent
  | SessionUpdatedEvent
  | SessionRotatedEvent
  | SessionRevokedEvent
  | SessionExpiredEvent
  | UserRevokedEvent;
export type SessionEventType = SessionEvent['type'];

export const SESSION_EVENT_TYPES: readonly SessionEventType[] = [
  'session.created',
  'session.updated',
  'session.rotated',
  'session.revoked',
  'session.expired',
  'user.revoked',
];

const REQUIRED: Record<SessionEventType, Record<string, 'string' | 'number' | 'object'>> = {
  'session.created': {
    sessionId: 'string',
    createdAt: 'number',
    expiresAt: 'number',
    absoluteExpiresAt: 'number',
  },
  'session.updated': { sessionId: 'string', keys: 'object' },
  'session.rotated': {
    sessionId: 'string',
    previousSessionId: 'string',
    createdAt: 'number',
    expiresAt: 'number',
    absoluteExpiresAt: 'number',
  },
  'session.revoked': { sessionId: 'string', reason: 'string' },
  'session.expired': { sessionId: 'string' },
  'user.revoked': { revokedBefore: 'number' },
};

/** Checks an event's shape and version; a typed error names what is wrong. */
export function parseSessionEvent(value: unknown): SessionEvent {
  if (typeof value !== 'object' || value === null)
    throw new UnsupportedEventError('Event is not an object');
  const event = value as Record<string, unknown>;
  const type = event.type as SessionEventType;
  if (!SESSION_EVENT_TYPES.includes(type))
    throw new UnsupportedEventError(`Unknown event type ${JSON.stringify(event.type)}`);
  if (event.v !== SESSION_EVENT_SCHEMA_VERSION) {
    throw new UnsupportedEventError(
      `Unsupported schema version ${JSON.stringify(event.v)} of ${type}`,
    );
  }
  const fields = { userId: 'string', at: 'number', ...REQUIRED[type] } as const;
  for (const [name, kind] of Object.entries(fields)) {
    if (typeof event[name] !== kind || event[name] === null) {
      throw new UnsupportedEventError(`Event ${type} lacks ${kind} field "${name}"`);
    }
  }
  if (
    type === 'session.updated' &&
    !(Array.isArray(event.keys) && event.keys.every((k) => typeof k === 'string'))
  ) {
    throw new UnsupportedEventError('Event session.updated has "keys" that are not a string array');
  }
  return event as unknown as SessionEvent;
}
