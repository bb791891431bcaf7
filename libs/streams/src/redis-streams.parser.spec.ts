import {
  decodeEntry,
  describeError,
  parseAutoClaimReply,
  parseFields,
  parseReadReply,
} from './redis-streams.parser';

describe('redis-streams parser', () => {
  it('parses XREADGROUP replies, keeping nil field lists of deleted entries', () => {
    const reply = [
      [
        's0',
        [
          ['1-0', ['pattern', 'a', 'data', '{}']],
          ['2-0', null],
        ],
      ],
      ['s1', []],
    ];
    expect(parseReadReply(reply)).toEqual([
      {
        stream: 's0',
        entries: [
          { id: '1-0', fields: { pattern: 'a', data: '{}' } },
          { id: '2-0', fields: null },
        ],
      },
      { stream: 's1', entries: [] },
    ]);
    expect(parseReadReply(null)).toEqual([]);
  });

  it('parses XAUTOCLAIM replies of Redis 6.2 (2 elements) and 7+ (deleted ids)', () => {
    expect(parseAutoClaimReply(['0-0', [['1-0', ['pattern', 'a']]]])).toEqual({
      cursor: '0-0',
      entries: [{ id: '1-0', fields: { pattern: 'a' } }],
      deletedIds: [],
    });
    expect(parseAutoClaimReply(['5-0', [], ['3-0', '4-0']])).toEqual({
      cursor: '5-0',
      entries: [],
      deletedIds: ['3-0', '4-0'],
    });
  });

  it('keeps the first of duplicated fields and ignores odd trailing items', () => {
    expect(parseFields(['pattern', 'a', 'pattern', 'b', 'dangling'])).toEqual({ pattern: 'a' });
    expect(parseFields(null)).toBeNull();
  });

  it('decodes the wire format and names what is malformed', () => {
    expect(decodeEntry({ pattern: 'p', data: '{"a":1}', extra: 'x' })).toEqual({
      ok: true,
      pattern: 'p',
      data: { a: 1 },
      rawData: '{"a":1}',
    });
    expect(decodeEntry({ data: '{}' })).toMatchObject({ ok: false, reason: /no "pattern"/ });
    expect(decodeEntry({ pattern: '', data: '{}' })).toMatchObject({ ok: false });
    expect(decodeEntry({ pattern: 'p' })).toMatchObject({ ok: false, reason: /no "data"/ });
    expect(decodeEntry({ pattern: 'p', data: '{x' })).toMatchObject({
      ok: false,
      reason: /not JSON/,
    });
  });

  it('describes errors of any shape', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError({ status: 'error', message: 'Internal server error' })).toBe(
      'Internal server error',
    );
    expect(describeError({ message: { code: 1 } })).toBe('{"code":1}');
    expect(describeError('plain')).toBe('plain');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });
});
