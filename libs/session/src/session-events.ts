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

/**
 * The compact form (storage format 2, see store/session-format.ts): short names, no `type` and no
 * `at` (the stream entry's pattern and id carry them), `expiresAt` and `absoluteExpiresAt`
 * relative to `createdAt`. Read by every reader; written for session.created once the
 * deployment's format is 2.
 */
export const COMPACT_EVENT_VERSION = 2;
const COMPACT_NAMES: Record<string, string> = {
  sessionId: 's',
  userId: 'u',
  createdAt: 'c',
  expiresAt: 'e',
  absoluteExpiresAt: 'a',
  previousSessionId: 'p',
  reason: 'r',
  keys: 'k',
  revokedBefore: 'b',
  exceptSessionId: 'x',
};
const RELATIVE_TO_CREATED = new Set(['expiresAt', 'absoluteExpiresAt']);

/** Where an event was read: its stream entry's pattern (the type) and id (the time). */
export interface EventEntry {
  pattern: string;
  id: string;
}

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

/** A compact event in the long form, with the type its entry carries and the time it happened. */
function upcastCompact(
  compact: Record<string, unknown>,
  entry: EventEntry,
): Record<string, unknown> {
  const type = entry.pattern as SessionEventType;
  // A login happened at its creation time, which the event carries; other events at their
  // entry's time (the same Redis clock, a moment later: the ms may have ticked, or the stream's
  // last id been ahead).
  const at =
    type === 'session.created' && typeof compact.c === 'number'
      ? compact.c
      : Number(entry.id.slice(0, entry.id.indexOf('-')));
  const event: Record<string, unknown> = { v: COMPACT_EVENT_VERSION, type, at };
  const schema: Record<string, FieldKind> = Object.hasOwn(SESSION_EVENT_SCHEMA, type)
    ? { userId: 'string', ...SESSION_EVENT_SCHEMA[type] }
    : { userId: 'string' };
  const createdAt = compact.c;
  for (const name of Object.keys(schema)) {
    const value = compact[COMPACT_NAMES[name]];
    if (value === undefined) continue;
    event[name] =
      RELATIVE_TO_CREATED.has(name) && typeof value === 'number' && typeof createdAt === 'number'
        ? createdAt + value
        : value;
  }
  return event;
}

/**
 * Checks an event's shape and version; a typed error names what is wrong. A compact event (v2)
 * needs the entry it was read from; it comes back in the long form (with `v: 2`).
 */
export function parseSessionEvent(value: unknown, entry?: EventEntry): SessionEvent {
  if (typeof value !== 'object' || value === null)
    throw new UnsupportedEventError('Event is not an object');
  let event = value as Record<string, unknown>;
  // Compact as stored (no type); an upcast one keeps v 2 with its type and is read as is.
  if (event.v === COMPACT_EVENT_VERSION && event.type === undefined) {
    if (!entry) throw new UnsupportedEventError('A compact (v2) event needs its stream entry');
    event = upcastCompact(event, entry);
  }
  const type = event.type as SessionEventType;
  if (typeof type !== 'string' || !Object.hasOwn(SESSION_EVENT_SCHEMA, type))
    throw new UnsupportedEventError(`Unknown event type ${JSON.stringify(event.type)}`);
  if (event.v !== SESSION_EVENT_SCHEMA_VERSION && event.v !== COMPACT_EVENT_VERSION) {
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
 * The user of an event as stored, long (`userId`) or compact (`u`) form, without checking the
 * rest: the worker's ordering key, read before the event is parsed.
 */
export function eventUserId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Record<string, unknown>;
  const userId =
    event.userId ?? (event.v === COMPACT_EVENT_VERSION ? event[COMPACT_NAMES.userId] : undefined);
  return typeof userId === 'string' ? userId : undefined;
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
    `local COMPACT_EVENT_VERSION = ${COMPACT_EVENT_VERSION}`,
    'local EVENT_FIELDS = {',
    ...types,
    '}',
  ].join('\n');
}
