import { parseInvalidation } from './invalidation-message';

describe('parseInvalidation', () => {
  it("reads a guest session's invalidation (user id ''), so every instance drops it", () => {
    expect(parseInvalidation('{"k":"session","id":"1-a","uid":"","r":"logout","at":5}')).toEqual({
      kind: 'session',
      sessionId: '1-a',
      userId: '',
      reason: 'logout',
      at: 5,
    });
    expect(parseInvalidation('{"k":"changed","id":"1-a","uid":"","at":5}')).toMatchObject({
      kind: 'changed',
      userId: '',
    });
  });

  it('still refuses a message without a session id or user id', () => {
    expect(parseInvalidation('{"k":"session","id":"","uid":"u","at":5}')).toBeNull();
    expect(parseInvalidation('{"k":"changed","id":"1-a","at":5}')).toBeNull();
    expect(parseInvalidation('{"k":"user","uid":"","rb":1,"at":5}')).toBeNull();
  });
});
