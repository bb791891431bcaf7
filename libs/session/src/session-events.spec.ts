import { UnsupportedEventError } from './errors';
import {
  eventUserId,
  COMPACT_EVENT_VERSION,
  eventSchemaLua,
  parseSessionEvent,
  SESSION_EVENT_SCHEMA,
  SESSION_EVENT_SCHEMA_VERSION,
  SESSION_EVENT_TYPES,
  type SessionEventType,
} from './session-events';

const base = { v: 1, at: 1_700_000_000_000, userId: 'user-1' };

/** One minimal valid event per type, as the Lua scripts write them. */
const VALID: Record<SessionEventType, Record<string, unknown>> = {
  'session.created': {
    ...base,
    type: 'session.created',
    sessionId: '0-a',
    createdAt: 1,
    expiresAt: 2,
    absoluteExpiresAt: 3,
  },
  'session.updated': { ...base, type: 'session.updated', sessionId: '0-a', keys: ['theme'] },
  'session.rotated': {
    ...base,
    type: 'session.rotated',
    sessionId: '0-b',
    previousSessionId: '0-a',
    createdAt: 1,
    expiresAt: 2,
    absoluteExpiresAt: 3,
  },
  'session.revoked': { ...base, type: 'session.revoked', sessionId: '0-a', reason: 'logout' },
  'session.expired': { ...base, type: 'session.expired', sessionId: '0-a' },
  'user.revoked': { ...base, type: 'user.revoked', revokedBefore: 5 },
};

const requiredFields = (type: SessionEventType) =>
  Object.keys(VALID[type]).filter((name) => name !== 'type' && name !== 'v');

function rejection(value: unknown): UnsupportedEventError {
  try {
    parseSessionEvent(value);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedEventError);
    return error as UnsupportedEventError;
  }
  throw new Error(`expected UnsupportedEventError for ${JSON.stringify(value)}`);
}

describe('parseSessionEvent', () => {
  it('knows exactly the five lifecycle event types at schema version 1', () => {
    expect([...SESSION_EVENT_TYPES].sort()).toEqual(Object.keys(VALID).sort());
    expect(SESSION_EVENT_SCHEMA_VERSION).toBe(1);
  });

  it.each(Object.keys(VALID) as SessionEventType[])('accepts a well-formed %s event', (type) => {
    const event = VALID[type];
    const parsed = parseSessionEvent(event);
    expect(parsed).toEqual(event);
    expect(parsed.type).toBe(type);
  });

  it('accepts an event decoded from JSON, as read from the stream', () => {
    const json = JSON.stringify(VALID['session.rotated']);
    expect(parseSessionEvent(JSON.parse(json)).type).toBe('session.rotated');
  });

  it('accepts user.revoked with an exceptSessionId (revoke-others)', () => {
    const event = { ...VALID['user.revoked'], exceptSessionId: '0-keep' };
    expect(parseSessionEvent(event)).toMatchObject({ exceptSessionId: '0-keep' });
  });

  it('accepts session.updated with an empty key list', () => {
    expect(parseSessionEvent({ ...VALID['session.updated'], keys: [] })).toMatchObject({
      keys: [],
    });
  });

  it.each([null, undefined, 'session.created', 1, true])('rejects the non-object %p', (value) => {
    expect(rejection(value).message).toContain('not an object');
  });

  it.each(['session.deleted', 'SESSION.CREATED', '', undefined, 1, ['session.created']])(
    'rejects unknown type %p',
    (type) => {
      const error = rejection({ ...VALID['session.created'], type });
      expect(error.message).toContain('Unknown event type');
      expect(error.code).toBe('UNSUPPORTED_EVENT');
    },
  );

  it.each([3, 0, '1', '2', undefined, null, 1.5])('rejects schema version v = %p', (v) => {
    for (const type of SESSION_EVENT_TYPES) {
      const error = rejection({ ...VALID[type], v });
      expect(error.message).toContain('Unsupported schema version');
      expect(error.message).toContain(type);
    }
  });

  describe.each(Object.keys(VALID) as SessionEventType[])('%s', (type) => {
    it.each(requiredFields(type))('rejects the event without %s, naming the field', (field) => {
      const event = { ...VALID[type] };
      delete event[field];
      expect(rejection(event).message).toContain(`"${field}"`);
    });

    it.each(requiredFields(type))('rejects %s of the wrong type', (field) => {
      const value = VALID[type][field];
      const wrong = typeof value === 'string' ? 42 : typeof value === 'number' ? '42' : 'x';
      expect(rejection({ ...VALID[type], [field]: wrong }).message).toContain(`"${field}"`);
    });

    it.each(requiredFields(type))('rejects %s set to null', (field) => {
      expect(rejection({ ...VALID[type], [field]: null }).message).toContain(`"${field}"`);
    });
  });
});

describe('parseSessionEvent on compact (v2) events', () => {
  const entry = { pattern: 'session.created', id: '1700000000123-4' };
  const compact = { v: 2, s: '3-a', u: 'user "1"', c: 1700000000120, e: 3_600_000, a: 86_400_000 };

  it('reads session.created in the long form: the type from its entry, the time it was created', () => {
    expect(parseSessionEvent(compact, entry)).toEqual({
      v: COMPACT_EVENT_VERSION,
      type: 'session.created',
      at: 1700000000120,
      sessionId: '3-a',
      userId: 'user "1"',
      createdAt: 1700000000120,
      expiresAt: 1700000000120 + 3_600_000,
      absoluteExpiresAt: 1700000000120 + 86_400_000,
    });
  });

  it('reads an event it has already upcast as it is', () => {
    const upcast = parseSessionEvent(compact, entry);
    expect(parseSessionEvent(JSON.parse(JSON.stringify(upcast)))).toEqual(upcast);
  });

  it('reads every type from the short names', () => {
    const revoked = { pattern: 'user.revoked', id: '1700000000200-0' };
    expect(parseSessionEvent({ v: 2, u: 'bob', b: 1700000000100, x: '1-k' }, revoked)).toEqual({
      v: 2,
      type: 'user.revoked',
      at: 1700000000200,
      userId: 'bob',
      revokedBefore: 1700000000100,
      exceptSessionId: '1-k',
    });
  });

  it('refuses one without its entry, or with a field missing, naming it', () => {
    expect(rejection(compact).message).toContain('stream entry');
    const withoutCreatedAt: Record<string, unknown> = { ...compact };
    delete withoutCreatedAt.c;
    expect(() => parseSessionEvent(withoutCreatedAt, entry)).toThrow(/"createdAt"/);
    expect(() => parseSessionEvent(compact, { ...entry, pattern: 'session.deleted' })).toThrow(
      /Unknown event type/,
    );
  });
});

describe('eventSchemaLua', () => {
  const lua = eventSchemaLua();

  it('states the version the scripts write, taken from SESSION_EVENT_SCHEMA_VERSION', () => {
    expect(lua).toContain(`local EVENT_SCHEMA_VERSION = ${SESSION_EVENT_SCHEMA_VERSION}\n`);
  });

  it.each(SESSION_EVENT_TYPES)('lists the user id and every schema field of %s', (type) => {
    const names = ['userId', ...Object.keys(SESSION_EVENT_SCHEMA[type])];
    expect(lua).toContain(`['${type}'] = {${names.map((n) => `'${n}'`).join(', ')}},`);
  });
});

describe('eventUserId', () => {
  it('reads the user of a long and of a compact event, and nothing else', () => {
    expect(eventUserId({ v: 1, type: 'session.created', userId: 'alice' })).toBe('alice');
    expect(eventUserId({ v: 2, s: '0-x', u: 'bob', c: 1, e: 2, a: 3 })).toBe('bob');
    expect(eventUserId({ v: 1, u: 'not-compact' })).toBeUndefined();
    expect(eventUserId({ userId: 42 })).toBeUndefined();
    expect(eventUserId('alice')).toBeUndefined();
    expect(eventUserId(null)).toBeUndefined();
  });
});
