import { type CookieResponse, SessionCookies } from './session-cookies';
import { resolveSessionOptions } from './session-options';

function response(): CookieResponse & { cookies(): string[] } {
  const headers = new Map<string, string | string[]>();
  return {
    getHeader: (name) => headers.get(name.toLowerCase()),
    setHeader: (name, value) => headers.set(name.toLowerCase(), value),
    cookies: () => [headers.get('set-cookie') ?? []].flat(),
  };
}

const options = (cookie = {}) =>
  resolveSessionOptions({ redis: { url: 'redis://localhost' }, absoluteTtlSeconds: 7200, cookie });

describe('SessionCookies', () => {
  it('writes __Host-session_id, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain by default', () => {
    const res = response();
    new SessionCookies(options()).set(res, 'tok');
    expect(res.cookies()).toEqual([
      '__Host-session_id=tok; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax',
    ]);
  });

  it('gives a rotated token what remains of the absolute lifetime, not a fresh one', () => {
    const res = response();
    const now = 1_700_000_000_000;
    const cookies = new SessionCookies(options());
    cookies.set(res, { token: 'rotated', absoluteExpiresAt: now + 1234_567 }, now);
    cookies.set(res, { token: 'ended', absoluteExpiresAt: now - 5 }, now);
    cookies.set(res, { token: 'clock-skew', absoluteExpiresAt: now + 9_999_999 }, now);
    expect(res.cookies().map((c) => /Max-Age=(\d+)/.exec(c)?.[1])).toEqual(['1234', '0', '7200']);
  });

  it('clears the same cookie it sets', () => {
    const res = response();
    new SessionCookies(options({ secure: false })).clear(res);
    expect(res.cookies()[0]).toMatch(/^session_id=; Max-Age=0; Path=\/; Expires=.*1970/);
  });

  it('appends to a Fastify reply (no setHeader) through reply.header', () => {
    const lines: string[] = [];
    const reply = {
      getHeader: () => lines,
      header: (name: string, value: string[]) => {
        expect(name).toBe('set-cookie');
        lines.push(...value);
      },
    };
    const cookies = new SessionCookies(options({ secure: false }));
    cookies.set(reply, 'tok');
    cookies.clear(reply);
    expect(lines).toEqual([
      'session_id=tok; Max-Age=7200; Path=/; HttpOnly; SameSite=Lax',
      expect.stringMatching(/^session_id=; Max-Age=0;/),
    ]);
  });
});
