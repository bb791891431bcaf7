import {
  containsCardNumber,
  DEFAULT_FORBIDDEN_DATA_KEYS,
  isForbiddenKey,
  keyWords,
  normalizeDataKey,
} from './forbidden-data';

const TERMS = DEFAULT_FORBIDDEN_DATA_KEYS.map(normalizeDataKey);
const forbidden = (key: string) => isForbiddenKey(key, TERMS);

describe('normalizeDataKey', () => {
  it('lower-cases and removes separators and punctuation', () => {
    expect(normalizeDataKey('Credit_Card')).toBe('creditcard');
    expect(normalizeDataKey('credit-card')).toBe('creditcard');
    expect(normalizeDataKey('creditCard')).toBe('creditcard');
    expect(normalizeDataKey(' Card\tNumber ')).toBe('cardnumber');
    expect(normalizeDataKey('a.b:c')).toBe('abc');
  });

  it('folds full-width forms, ligatures, accents and invisible characters', () => {
    expect(normalizeDataKey('ｐａｓｓｗｏｒｄ')).toBe('password');
    expect(normalizeDataKey('pass\u200bword')).toBe('password');
    expect(normalizeDataKey('pa\u00adss\u2060wo\ufeffrd')).toBe('password');
    expect(normalizeDataKey('pässwörd')).toBe('password');
    expect(normalizeDataKey('ſecret')).toBe('secret');
    expect(normalizeDataKey('PAßWORT')).toBe('passwort');
  });
});

describe('keyWords', () => {
  it('splits at separators and camelCase, not inside words or at invisible characters', () => {
    expect(keyWords('cardNo')).toEqual(['card', 'no']);
    expect(keyWords('CCNumber')).toEqual(['cc', 'number']);
    expect(keyWords('user_pin.code')).toEqual(['user', 'pin', 'code']);
    expect(keyWords('pass\u200bword')).toEqual(['password']);
    expect(keyWords('cvv2')).toEqual(['cvv2']);
  });
});

describe('isForbiddenKey with the default terms', () => {
  it.each([
    'password',
    'pass.word',
    'pass\u200bword',
    'ｐａｓｓｗｏｒｄ',
    'PASSWORD',
    'newpassword',
    'p@ssword'.replace('@', 'a'),
    'passwd',
    'passcode',
    'pwd',
    'PWD',
    'userPwd',
    'pin',
    'PIN',
    'userPin',
    'pin_code',
    'p-i-n',
    'cvv',
    'CVV2',
    'cvc',
    'cvc2',
    'card_cvv',
    'cvvCode',
    'cvn',
    'cardNo',
    'card_no',
    'CARDNO',
    'cardNumber',
    'ccNum',
    'pan',
    'PAN',
    'cardPan',
    'secret',
    'clientSecret',
    'client_secret',
    'ssn',
    'securityCode',
  ])('refuses %j', (key) => {
    expect(forbidden(key)).toBe(true);
  });

  it.each([
    'company',
    'japan',
    'panel',
    'shipping',
    'spinner',
    'opinion',
    'pinned',
    'spin',
    'pane',
    'expand',
    'theme',
    'cart',
    'cid',
    'pass',
    'word',
    'card',
    'cv',
    'cvvx',
    'happiness',
    'passport',
  ])('allows %j', (key) => {
    expect(forbidden(key)).toBe(false);
  });
});

describe('containsCardNumber', () => {
  it.each([
    '4111111111111111',
    '4111 1111 1111 1111',
    '4111-1111-1111-1111',
    'my card is 5555 5555 5555 4444, thanks',
    '378282246310005', // Amex
    '6011111111111117', // Discover
    '3530111333300000', // JCB
    '2223003122003222', // Mastercard 2-series
    '4222222222222', // Visa, 13 digits
    '４１１１ １１１１ １１１１ １１１１', // full-width digits and spaces
    '4111\u200b1111\u200b1111\u200b1111', // zero-width spaces between groups
  ])('finds a card number in %j', (value) => {
    expect(containsCardNumber(value)).toBe(true);
  });

  it.each([
    ['a Luhn-invalid card number', '4111111111111112'],
    ['a Luhn-valid number with no brand prefix', '1234567812345670'],
    ['a millisecond timestamp', '1764206917123'],
    ['a microsecond timestamp', '1764206917123456'],
    ['a snowflake id', '1234567890123456789'],
    ['too few digits', '411111111111'],
    ['too many digits', '41111111111111111111'],
    ['a uuid', '7b1d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed'],
    ['digits with other separators', '4111.1111.1111.1111'],
    ['a phone number', '+1 415 555 2671'],
    ['the fraction of a number in exponent notation', '3.301684385821647e+89'],
    ['digits glued to letters (an id)', 'ord4111111111111111x'],
  ])('does not take %s for a card number', (_, value) => {
    expect(containsCardNumber(value)).toBe(false);
  });

  // ~27% of 16-digit strings start like a card, 1 in 10 of those passes Luhn.
  it('refuses under 3.5% of uniformly random 16-digit strings', () => {
    let refused = 0;
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 10_000; i++) {
      const id = Array.from({ length: 16 }, () => Math.floor(random() * 10)).join('');
      if (containsCardNumber(id)) refused++;
    }
    console.log(`containsCardNumber: ${refused} of 10,000 random 16-digit ids refused`);
    expect(refused).toBeLessThan(350);
  });
});
