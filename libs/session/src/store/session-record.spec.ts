import { flatToRecord, recordToSession } from './session-record';

describe('flatToRecord', () => {
  it('pairs alternating names and values into a record of strings', () => {
    expect(flatToRecord(['uid', 'u1', 'ca', 123, 'd:n', '1'])).toEqual({
      uid: 'u1',
      ca: '123',
      'd:n': '1',
    });
  });

  it('starts at the given offset, skipping a script reply header', () => {
    expect(flatToRecord(['ok', 1700, 1800, 1900, 'uid', 'u1', 'ip', '::1'], 4)).toEqual({
      uid: 'u1',
      ip: '::1',
    });
  });

  it('ignores a trailing name without a value', () => {
    expect(flatToRecord(['a', '1', 'b'])).toEqual({ a: '1' });
  });

  it('returns an empty record for an empty list or an offset past its end', () => {
    expect(flatToRecord([])).toEqual({});
    expect(flatToRecord(['a', '1'], 2)).toEqual({});
  });

  it('keeps the last value of a repeated name', () => {
    expect(flatToRecord(['a', '1', 'a', '2'])).toEqual({ a: '2' });
  });
});

describe('recordToSession', () => {
  const record = {
    uid: 'user-1',
    sh: 'f'.repeat(64),
    csrf: 'csrf-token',
    ca: '1700000000000',
    la: '1700000001000',
    it: '3600000',
    ax: '1700086400000',
    db: '11',
    ua: 'curl/8',
    ip: '10.0.0.1',
    dev: 'Laptop',
    'd:theme': '"dark"',
    'd:list': '[]',
  };

  it('maps the short hash fields to a Session with numeric times and decoded data', () => {
    expect(recordToSession('3-abc', record, 1_700_000_002_000, 1_700_003_602_000)).toEqual({
      sessionId: '3-abc',
      userId: 'user-1',
      data: { theme: 'dark', list: [] },
      csrfToken: 'csrf-token',
      createdAt: 1_700_000_000_000,
      lastAccessedAt: 1_700_000_002_000,
      expiresAt: 1_700_003_602_000,
      absoluteExpiresAt: 1_700_086_400_000,
      userAgent: 'curl/8',
      ip: '10.0.0.1',
      deviceLabel: 'Laptop',
    });
  });

  it('never exposes the secret hash or internal fields', () => {
    const session = recordToSession('3-abc', record, 1, 2);
    const serialized = JSON.stringify(session);
    expect(serialized).not.toContain('f'.repeat(64));
    expect(session).not.toHaveProperty('sh');
  });

  it('leaves out empty user agent, ip and device label', () => {
    const session = recordToSession('3-abc', { ...record, ua: '', ip: '', dev: '' }, 1, 2);
    expect(session).not.toHaveProperty('userAgent');
    expect(session).not.toHaveProperty('ip');
    expect(session).not.toHaveProperty('deviceLabel');
  });

  it('returns empty data when the hash has no `d:` fields', () => {
    const bare = Object.fromEntries(Object.entries(record).filter(([k]) => !k.startsWith('d:')));
    expect(recordToSession('3-abc', bare, 1, 2).data).toEqual({});
  });
});
