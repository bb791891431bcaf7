import { isSameOriginRequest, type OriginHeaders } from './same-origin';

const own = 'https://api.example.com';
const allowed = new Set(['https://app.example.com']);

describe('isSameOriginRequest', () => {
  it.each<[string, Omit<OriginHeaders, 'ownOrigin'>, boolean]>([
    ['same-origin fetch', { secFetchSite: 'same-origin', origin: own }, true],
    [
      'same origin behind a proxy (Host rewritten)',
      { secFetchSite: 'same-origin', origin: 'https://public.example' },
      true,
    ],
    ['own Origin, older browser', { origin: 'HTTPS://API.example.com' }, true],
    ['allowed origin', { secFetchSite: 'cross-site', origin: 'https://app.example.com' }, true],
    ['typed URL / bookmark', { secFetchSite: 'none' }, true],
    ['curl, a server, a mobile app', {}, true],
    ['cross-site page', { secFetchSite: 'cross-site', origin: 'https://evil.example' }, false],
    ['cross-site Origin, older browser', { origin: 'https://evil.example' }, false],
    ['sibling subdomain', { secFetchSite: 'same-site', origin: 'https://x.example.com' }, false],
    ['cross-site without Origin', { secFetchSite: 'cross-site' }, false],
    ['same-site without Origin', { secFetchSite: 'same-site' }, false],
    ['opaque origin (sandboxed frame)', { origin: 'null' }, false],
  ])('%s → %s', (_name, headers, expected) => {
    expect(isSameOriginRequest({ ...headers, ownOrigin: own }, allowed)).toBe(expected);
  });
});
