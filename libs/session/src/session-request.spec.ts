import { resolveSessionOptions } from './session-options';
import { extractToken, type IncomingSessionRequest } from './session-request';

// The seed's bare `session_id` (the `__Host-` prefix, on by default with Secure, is tested below).
const options = resolveSessionOptions({
  redis: { url: 'redis://localhost' },
  cookie: { hostPrefix: false },
});
const custom = resolveSessionOptions({
  redis: { url: 'redis://localhost' },
  cookie: { name: 'sid', hostPrefix: false },
  headerName: 'X-Auth-Session',
});

function request(
  headers: IncomingSessionRequest['headers'],
  cookies?: Record<string, unknown>,
): IncomingSessionRequest {
  return cookies === undefined ? { headers } : { headers, cookies };
}

describe('extractToken sources', () => {
  it('reads the cookie from a parsed `cookies` object', () => {
    expect(extractToken(request({}, { session_id: 'tok-c' }), options)).toEqual({
      token: 'tok-c',
      source: 'cookie',
    });
  });

  it('reads the cookie from the raw Cookie header when no parser ran', () => {
    const req = request({ cookie: 'theme=dark; session_id=tok-raw; lang=en' });
    expect(extractToken(req, options)).toEqual({ token: 'tok-raw', source: 'cookie' });
  });

  it('falls back to the raw Cookie header when the parsed cookies lack the name', () => {
    const req = request({ cookie: 'session_id=tok-raw' }, { other: 'x' });
    expect(extractToken(req, options)).toEqual({ token: 'tok-raw', source: 'cookie' });
  });

  it('prefers the parsed cookie over the raw Cookie header', () => {
    const req = request({ cookie: 'session_id=raw' }, { session_id: 'parsed' });
    expect(extractToken(req, options)?.token).toBe('parsed');
  });

  it('URL-decodes a raw cookie value', () => {
    const req = request({ cookie: 'session_id=a%2Eb' });
    expect(extractToken(req, options)?.token).toBe('a.b');
  });

  it('reads the x-session-id header', () => {
    expect(extractToken(request({ 'x-session-id': 'tok-h' }), options)).toEqual({
      token: 'tok-h',
      source: 'header',
    });
  });

  it('reads a Bearer authorization header', () => {
    expect(extractToken(request({ authorization: 'Bearer tok-b' }), options)).toEqual({
      token: 'tok-b',
      source: 'bearer',
    });
  });

  it.each(['bearer tok-b', 'BEARER tok-b', 'BeArEr tok-b', 'Bearer   tok-b  ', 'Bearer\ttok-b'])(
    'accepts the authorization header %j',
    (authorization) => {
      expect(extractToken(request({ authorization }), options)).toEqual({
        token: 'tok-b',
        source: 'bearer',
      });
    },
  );

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'tok-b', 'Bearertok-b'])(
    'ignores the authorization header %j',
    (authorization) => {
      expect(extractToken(request({ authorization }), options)).toBeNull();
    },
  );

  it('returns null when the request carries no token', () => {
    expect(extractToken(request({}), options)).toBeNull();
    expect(extractToken(request({ cookie: 'theme=dark' }, {}), options)).toBeNull();
  });
});

describe('extractToken precedence', () => {
  const all = {
    cookie: 'session_id=from-cookie',
    'x-session-id': 'from-header',
    authorization: 'Bearer from-bearer',
  };

  it('prefers the cookie over the header and the bearer token', () => {
    expect(extractToken(request(all), options)).toEqual({
      token: 'from-cookie',
      source: 'cookie',
    });
  });

  it('prefers the header over the bearer token when there is no cookie', () => {
    const withoutCookie = { 'x-session-id': all['x-session-id'], authorization: all.authorization };
    expect(extractToken(request(withoutCookie), options)).toEqual({
      token: 'from-header',
      source: 'header',
    });
  });

  it('skips an empty cookie and an empty header', () => {
    const req = request(
      { cookie: 'session_id=', 'x-session-id': '', authorization: 'Bearer b' },
      { session_id: '' },
    );
    expect(extractToken(req, options)).toEqual({ token: 'b', source: 'bearer' });
  });

  it('ignores a non-string parsed cookie value and falls back to the raw header', () => {
    const req = request({ cookie: 'session_id=raw' }, { session_id: { nested: true } });
    expect(extractToken(req, options)).toEqual({ token: 'raw', source: 'cookie' });
  });
});

describe('extractToken options and header shapes', () => {
  it('uses the configured cookie name', () => {
    const req = request({ cookie: 'session_id=default; sid=custom' });
    expect(extractToken(req, custom)).toEqual({ token: 'custom', source: 'cookie' });
    expect(extractToken(request({ cookie: 'session_id=default' }), custom)).toBeNull();
  });

  it('uses the configured header name (lower-cased, as Node delivers headers)', () => {
    expect(extractToken(request({ 'x-auth-session': 'h' }), custom)).toEqual({
      token: 'h',
      source: 'header',
    });
    expect(extractToken(request({ 'x-session-id': 'h' }), custom)).toBeNull();
  });

  it('takes the first value of an array-valued header', () => {
    expect(extractToken(request({ 'x-session-id': ['first', 'second'] }), options)?.token).toBe(
      'first',
    );
    expect(extractToken(request({ authorization: ['Bearer one', 'Bearer two'] }), options)).toEqual(
      { token: 'one', source: 'bearer' },
    );
    expect(extractToken(request({ cookie: ['session_id=c1', 'session_id=c2'] }), options)).toEqual({
      token: 'c1',
      source: 'cookie',
    });
  });

  it('treats an empty array-valued header as absent', () => {
    expect(extractToken(request({ 'x-session-id': [], authorization: [] }), options)).toBeNull();
  });
});

describe('extractToken with the __Host- prefix (the default for Secure cookies)', () => {
  const prefixed = resolveSessionOptions({ redis: { url: 'redis://localhost' } });

  it('reads only __Host-session_id: a session_id planted by a sibling subdomain is ignored', () => {
    expect(prefixed.cookie.name).toBe('__Host-session_id');
    const planted = request({ cookie: 'session_id=planted; __Host-session_id=mine' });
    expect(extractToken(planted, prefixed)).toEqual({ token: 'mine', source: 'cookie' });
    expect(extractToken(request({ cookie: 'session_id=planted' }), prefixed)).toBeNull();
  });
});
