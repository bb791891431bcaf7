import type { SessionEvent } from '@app/session';
import { ProjectionReplay } from './projection-replay';
import { compareStreamIds } from './stream-snapshot';

const created = (sessionId: string, userId: string, createdAt: number): SessionEvent => ({
  type: 'session.created',
  v: 1,
  at: createdAt,
  sessionId,
  userId,
  createdAt,
  expiresAt: createdAt + 1000,
  absoluteExpiresAt: createdAt + 5000,
});

describe('ProjectionReplay', () => {
  it('knows which sessions live and which an event ended, and by which user', () => {
    const replay = new ProjectionReplay();
    replay.apply(created('a', 'u1', 10));
    replay.apply(created('b', 'u1', 20));
    replay.apply(created('c', 'u2', 30));
    replay.apply({
      type: 'session.revoked',
      v: 1,
      at: 40,
      sessionId: 'a',
      userId: 'u1',
      reason: 'logout',
    });
    replay.apply({
      type: 'session.rotated',
      v: 1,
      at: 50,
      sessionId: 'c2',
      previousSessionId: 'c',
      userId: 'u2',
      createdAt: 30,
      expiresAt: 1050,
      absoluteExpiresAt: 5030,
    });
    replay.apply({ type: 'user.revoked', v: 1, at: 60, userId: 'u1', revokedBefore: 60 });
    expect([...replay.sessions.keys()]).toEqual(['c2']);
    expect(replay.sessions.get('c2')).toMatchObject({ userId: 'u2', absoluteExpiresAt: 5030 });
    expect(Object.fromEntries(replay.ended)).toEqual({ a: 'u1', c: 'u2', b: 'u1' });
  });
});

describe('compareStreamIds', () => {
  it('orders by time, then sequence, beyond the precision of a double', () => {
    expect(compareStreamIds('1-0', '2-0')).toBeLessThan(0);
    expect(compareStreamIds('10-0', '9-5')).toBeGreaterThan(0);
    expect(compareStreamIds('5-3', '5-3')).toBe(0);
    expect(compareStreamIds('5-10', '5-9')).toBeGreaterThan(0);
    expect(
      compareStreamIds('1700000000000-18446744073709551615', '1700000000000-18446744073709551614'),
    ).toBeGreaterThan(0);
  });
});
