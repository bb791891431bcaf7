import { UnsupportedEventError } from './errors';

/**
 * Lifecycle events, as the Lua scripts append them to the partition streams (entry fields
 * `pattern` = type, `data` = JSON of the event). Events carry the session handle, never a token.
 *
 * SESSION_EVENT_SCHEMA is the one statement of what each event holds: the TypeScript types below,
 * `parseSessionEvent` and the scripts' field lists (scripts/includes/eventSchema, generated from it
 * by the script loader) are all derived from it, and the version is stated here only.
 */
export const SESSION_EVENT_SCHEMA_VERSION = 1;

/** A field's JSON type; a trailing `?` makes it optional. */
type FieldKind = 'string' | 'number' | 'string[]' | 'string?';

export const SESSION_EVENT_SCHEMA = {
  'session.created': {
    sessionId: 'string',
    createdAt: 'number',
    expiresAt: 'number',
    absoluteExpiresAt: 'number',
  },
  /** `keys`: names of the data keys changed (never their values). */
  'session.updated': { sessionId: 'string', keys: 'string[]' },
  'session.rotated': {
    sessionId: 'string',
    previousSessionId: 'string',
    createdAt: 'number',
    expiresAt: 'number',
    absoluteExpiresAt: 'number',
  },
  'session.revoked': { sessionId: 'string', reason: 'string' },
  /** Written by the worker's expiry sweep when a session's idle or absolute expiry has passed. */
  'session.expired': { sessionId: 'string' },
  /**
   * Every session created at or before `revokedBefore` is revoked, except `exceptSessionId`
   * (revoke-others).
   */
  'user.revoked': { revokedBefore: 'number', exceptSessionId: 'string?' },
} as const satisfies Record<string, Record<string, FieldKind>>;

export type SessionEventType = keyof typeof SESSION_EVENT_SCHEMA;

export const SESSION_EVENT_TYPES = Object.keys(SESSION_EVENT_SCHEMA) as readonly SessionEventType[];

/** Fields every event has: the version, the Redis time of the change (epoch ms), the user. */
const COMMON_FIELDS = { v: 'number', at: 'number', userId: 'string' } as const;

type ValueOf<K extends FieldKind> = K extends 'number'
  ? number
  : K extends 'string[]'
    ? string[]
    : string;
type Fields<S extends Record<string, FieldKind>> = {
  -readonly [N in keyof S as S[N] extends `${string}?` ? never : N]: ValueOf<S[N]>;
} & { -readonly [N in keyof S as S[N] extends `${string}?` ? N : never]?: ValueOf<S[N]> };

/** The event of one type, derived from SESSION_EVENT_SCHEMA. */
export type SessionEventOf<T extends SessionEventType> = { type: T } & Fields<
  typeof COMMON_FIELDS
> &
  Fields<(typeof SESSION_EVENT_SCHEMA)[T]>;

export type SessionCreatedEvent = SessionEventOf<'session.created'>;
export type SessionUpdatedEvent = SessionEventOf<'session.updated'>;
export type SessionRotatedEvent = SessionEventOf<'session.rotated'>;
export type SessionRevokedEvent = SessionEventOf<'session.revoked'>;
export type SessionExpiredEvent = SessionEventOf<'session.expired'>;
export type UserRevokedEvent = SessionEventOf<'user.revoked'>;
export type SessionEvent = { [T in SessionEventType]: SessionEventOf<T> }[SessionEventType];

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'string?':
      return value === undefined || typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
  }
}

/** Checks an event's shape and version; a typed error names what is wrong. */
export function parseSessionEvent(value: unknown): SessionEvent {
  if (typeof value !== 'object' || value === null)
    throw new UnsupportedEventError('Event is not an object');
  const event = value as Record<string, unknown>;
  const type = event.type as SessionEventType;
  if (typeof type !== 'string' || !Object.hasOwn(SESSION_EVENT_SCHEMA, type))
    throw new UnsupportedEventError(`Unknown event type ${JSON.stringify(event.type)}`);
  if (event.v !== SESSION_EVENT_SCHEMA_VERSION) {
    throw new UnsupportedEventError(
      `Unsupported schema version ${JSON.stringify(event.v)} of ${type}`,
    );
  }
  const fields: Record<string, FieldKind> = { ...COMMON_FIELDS, ...SESSION_EVENT_SCHEMA[type] };
  for (const [name, kind] of Object.entries(fields)) {
    if (!hasKind(event[name], kind)) {
      throw new UnsupportedEventError(
        kind === 'string[]'
          ? `Event ${type} has "${name}" that is not a string array`
          : `Event ${type} lacks ${kind.replace('?', '')} field "${name}"`,
      );
    }
  }
  return event as unknown as SessionEvent;
}

/**
 * The schema as Lua (the generated include `generated/eventSchema`): the version the scripts write
 * and the fields of each event type, the only ones `addEvent` copies into an event.
 */
export function eventSchemaLua(): string {
  const types = Object.entries(SESSION_EVENT_SCHEMA).map(([type, fields]) => {
    const names = Object.keys(fields).map((name) => `'${name}'`);
    return `  ['${type}'] = {'userId', ${names.join(', ')}},`;
  });
  return [
    '-- Generated from SESSION_EVENT_SCHEMA (session-events.ts) by the script loader.',
    `local EVENT_SCHEMA_VERSION = ${SESSION_EVENT_SCHEMA_VERSION}`,
    'local EVENT_FIELDS = {',
    ...types,
    '}',
  ].join('\n');
}
