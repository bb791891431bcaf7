import type { Redis } from 'ioredis';
import {
  COMPACT_EVENT_VERSION,
  parseSessionEvent,
  SESSION_EVENT_SCHEMA_VERSION,
} from '@app/session';
import { loadScriptSources } from '../../libs/session/src/store/session-scripts';
import { newRedisClient, uniquePrefix } from '../support/test-redis';
import { createSessionFixture, readAllEvents, type SessionFixture } from './session-fixture';

/** addEvent as the scripts get it (includes expanded, the schema generated from TypeScript). */
function addEventProbe(): string {
  const revoke = loadScriptSources().find((s) => s.name === 'revokeSession')!.lua;
  // The included functions, without the script's own body.
  const fragments = revoke.slice(0, revoke.indexOf("local userId = redis.call('HGET'"));
  return `${fragments}
return addEvent(KEYS[1], 3600000, 1000, 1700000000000, 'session.revoked',
  {sessionId = '0-a', userId = 'u', reason = 'logout', secret = 'not in the schema'})`;
}

describe('the event schema on the Lua side', () => {
  let fx: SessionFixture;
  let redis: Redis;

  beforeAll(async () => {
    fx = await createSessionFixture('event-schema', { cache: { enabled: false } });
    redis = newRedisClient();
  });

  afterAll(async () => {
    await redis.quit();
    await fx.close();
  });

  it('writes the schema version and only the schema fields of an event', async () => {
    const stream = `${uniquePrefix('event-schema-probe')}:{p0}:events`;
    try {
      await redis.eval(addEventProbe(), 1, stream);
      const [[, fields]] = await redis.xrange(stream, '-', '+');
      const data = JSON.parse(fields[fields.indexOf('data') + 1]) as Record<string, unknown>;
      expect(data).toEqual({
        v: SESSION_EVENT_SCHEMA_VERSION,
        type: 'session.revoked',
        at: 1700000000000,
        sessionId: '0-a',
        userId: 'u',
        reason: 'logout',
      });
    } finally {
      await redis.del(stream);
    }
  });

  it('writes events every script appends that parseSessionEvent accepts, any user id', async () => {
    const userId = 'quote " backslash \\ slash / é 🙂';
    const created = await fx.service.create(userId, { n: 1 });
    await fx.service.update(created.sessionId, { n: 2 });
    const rotated = await fx.service.rotate(created.token);
    await fx.service.revokeOthers(userId, rotated.sessionId);
    await fx.service.revoke(rotated.sessionId, 'logout');
    await fx.service.revokeAllForUser(userId);
    const events = await readAllEvents(fx);
    expect(events.map((e) => e.pattern)).toEqual([
      'session.created',
      'session.updated',
      'session.rotated',
      'user.revoked',
      'session.revoked',
      'user.revoked',
    ]);
    for (const { pattern, data } of events) {
      const event = parseSessionEvent(data);
      expect(event.type).toBe(pattern);
      expect(event.userId).toBe(userId);
      // Format 2 (a new deployment): session.created compact, the others in the long form.
      expect(event.v).toBe(
        pattern === 'session.created' ? COMPACT_EVENT_VERSION : SESSION_EVENT_SCHEMA_VERSION,
      );
    }
  });
});
