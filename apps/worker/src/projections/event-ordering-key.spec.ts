import { eventOrderingKey } from './event-ordering-key';

describe('eventOrderingKey', () => {
  it('is the user of a long-form event and of a compact session.created alike', () => {
    expect(eventOrderingKey({ v: 1, type: 'session.revoked', userId: 'alice' })).toBe('alice');
    expect(eventOrderingKey({ v: 2, s: '3-abc', u: 'alice', c: 1, e: 2, a: 3 })).toBe('alice');
  });

  it('is undefined for what names no user', () => {
    expect(eventOrderingKey(null)).toBeUndefined();
    expect(eventOrderingKey('text')).toBeUndefined();
    expect(eventOrderingKey({ v: 1 })).toBeUndefined();
  });
});
