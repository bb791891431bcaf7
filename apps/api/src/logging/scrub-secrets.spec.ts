import { formatToken, newSecret, newSessionId } from '@app/session/token';
import { SCRUBBED, scrubText, scrubValues } from './scrub-secrets';

describe('scrubText', () => {
  const sessionId = newSessionId(3);
  const token = formatToken(sessionId, newSecret());

  it('keeps the session id of a token and drops its secret, wherever it is', () => {
    expect(scrubText(`/sessions/${token}`)).toBe(`/sessions/${sessionId}.${SCRUBBED}`);
    expect(scrubText(`/x?a=1&t=${token}#f`)).toBe(`/x?a=1&t=${sessionId}.${SCRUBBED}#f`);
  });

  it('drops any long high-entropy base64url or hex run (other secrets, CSRF tokens)', () => {
    for (let i = 0; i < 200; i++) {
      const secret = newSecret();
      expect(scrubText(`/a/${secret}/b`)).toBe(`/a/${SCRUBBED}/b`);
    }
    const hex = 'a3f9'.repeat(16);
    expect(scrubText(`?digest=${hex}`)).toBe(`?digest=${SCRUBBED}`);
  });

  it('leaves public handles, short values and long readable words alone', () => {
    const keep = [
      `/sessions/${sessionId}`,
      '/admin/users/alice/sessions',
      '/docs/swagger-ui-standalone-preset.js',
      '/a-very-long-lower-case-route-name-for-reports',
      '/items?page=2&sort=created',
      '/x/0b7e1f9e-2c4d-4a8b-9f10-6a2b3c4d5e6f',
    ];
    for (const url of keep) expect(scrubText(url)).toBe(url);
  });
});

describe('scrubValues', () => {
  it('scrubs every string of a query or params object, keys and nested values included', () => {
    const secret = newSecret();
    expect(
      scrubValues({ page: '2', [secret]: 'x', list: [secret, 'ok'], deep: { t: secret } }),
    ).toEqual({
      page: '2',
      [SCRUBBED]: 'x',
      list: [SCRUBBED, 'ok'],
      deep: { t: SCRUBBED },
    });
    expect(scrubValues(undefined)).toBeUndefined();
  });
});
