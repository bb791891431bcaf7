/**
 * What session data may never hold: keys that name secrets (passwords, card data) and values that
 * are payment card numbers. Keys are compared after Unicode normalization so look-alikes
 * (`pass.word`, `pass\u200bword`, full-width `ｐａｓｓｗｏｒｄ`) cannot slip through.
 */

/**
 * Default forbidden key terms (the seed's "Don't store" column, widened). Terms of at least
 * {@link SUBSTRING_TERM_LENGTH} characters match anywhere in a key (`newPassword`); shorter ones
 * only as whole words or runs of words (`pin`, `userPin`, `p_i_n`, not `spinner` or `opinion`).
 * `cid` (Amex) is left out on purpose: it is also the usual name of a client or correlation id.
 */
export const DEFAULT_FORBIDDEN_DATA_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'pwd',
  'pin',
  'secret',
  'creditcard',
  'cardnumber',
  'cardno',
  'ccnumber',
  'ccnum',
  'pan',
  'cvv',
  'cvv2',
  'cvc',
  'cvc2',
  'cvn',
  'securitycode',
  'ssn',
];

/** Shorter terms are whole-word matches; longer ones are substring matches. */
export const SUBSTRING_TERM_LENGTH = 6;

// Marks and default-ignorable characters (zero-width spaces and joiners, soft hyphen, BOM, ...)
// are invisible or decorative: removed without making a word boundary.
const INVISIBLE = /[\p{M}\p{Default_Ignorable_Code_Point}]/gu;
// Upper case after lower case or a digit starts a word (`cardNo`); so does the last capital of a
// run followed by a lower-case letter (`CCNumber` → CC, Number).
const CAMEL_BOUNDARY = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;
const NOT_ALPHANUMERIC = /[^\p{L}\p{N}]+/u;

/** Full-ish case folding: `ß` → `ss`, dotless `ı` → `i`. */
function fold(word: string): string {
  return word.toUpperCase().toLowerCase();
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The words of a key, normalized: compatibility-decomposed (full-width and ligature forms become
 * ASCII), invisible characters and accents removed, split at separators and camelCase, folded.
 */
export function keyWords(key: string): string[] {
  const ascii = PRINTABLE_ASCII.test(key); // nothing to decompose or remove
  return (ascii ? key : key.normalize('NFKD').replace(INVISIBLE, ''))
    .split(NOT_ALPHANUMERIC)
    .flatMap((part) => part.split(CAMEL_BOUNDARY))
    .filter((word) => word.length > 0)
    .map(ascii ? (word) => word.toLowerCase() : fold);
}

/** `Credit_Card`, `credit-card`, `creditCard` and full-width `ｃｒｅｄｉｔcard` all become `creditcard`. */
export function normalizeDataKey(key: string): string {
  return keyWords(key).join('');
}

/** Whether a key names one of the (normalized) forbidden terms. */
export function isForbiddenKey(key: string, terms: readonly string[]): boolean {
  const matcher = matcherOf(terms);
  let forbidden = matcher.verdicts.get(key);
  if (forbidden === undefined) {
    forbidden = matcher.matches(keyWords(key));
    // Apps write the same few keys over and over: verdicts are kept, in a bounded cache dropped
    // whole when full, so random keys from a client cost a re-computation, nothing more.
    if (matcher.verdicts.size >= VERDICT_CACHE_SIZE) matcher.verdicts.clear();
    matcher.verdicts.set(key, forbidden);
  }
  return forbidden;
}

const VERDICT_CACHE_SIZE = 4096;

/** One list of terms, split once into substring terms and whole-word terms. */
class TermMatcher {
  readonly verdicts = new Map<string, boolean>();
  private readonly substrings: string[];
  private readonly words: Set<string>;
  private readonly longestWord: number;

  constructor(terms: readonly string[]) {
    this.substrings = terms.filter((t) => t.length >= SUBSTRING_TERM_LENGTH);
    this.words = new Set(terms.filter((t) => t.length < SUBSTRING_TERM_LENGTH));
    this.longestWord = Math.max(0, ...[...this.words].map((t) => t.length));
  }

  matches(words: readonly string[]): boolean {
    const joined = words.join('');
    return this.substrings.some((t) => joined.includes(t)) || this.hasWordRun(words);
  }

  /** Whether some run of consecutive words spells a short term exactly (`card`,`no` → `cardno`). */
  private hasWordRun(words: readonly string[]): boolean {
    for (let start = 0; start < words.length; start++) {
      let run = '';
      for (let end = start; end < words.length; end++) {
        run += words[end];
        if (run.length > this.longestWord) break;
        if (this.words.has(run)) return true;
      }
    }
    return false;
  }
}

// One matcher per list of terms (the resolved options hold one list for the app's lifetime).
const matchers = new WeakMap<readonly string[], TermMatcher>();

function matcherOf(terms: readonly string[]): TermMatcher {
  let matcher = matchers.get(terms);
  if (!matcher) {
    matcher = new TermMatcher(terms);
    matchers.set(terms, matcher);
  }
  return matcher;
}

/** Issuer prefixes (IIN ranges) and lengths of the major card brands. */
const CARD_BRANDS: readonly { prefixes: readonly [number, number][]; lengths: number[] }[] = [
  { prefixes: [[4, 4]], lengths: [13, 16, 19] }, // Visa
  {
    prefixes: [
      [51, 55],
      [2221, 2720],
    ],
    lengths: [16],
  }, // Mastercard
  {
    prefixes: [
      [34, 34],
      [37, 37],
    ],
    lengths: [15],
  }, // American Express
  {
    prefixes: [
      [6011, 6011],
      [644, 649],
      [65, 65],
    ],
    lengths: [16, 17, 18, 19],
  }, // Discover
  { prefixes: [[3528, 3589]], lengths: [16, 17, 18, 19] }, // JCB
  {
    prefixes: [
      [300, 305],
      [36, 36],
      [38, 39],
    ],
    lengths: [14, 15, 16, 17, 18, 19],
  }, // Diners Club
  { prefixes: [[62, 62]], lengths: [16, 17, 18, 19] }, // UnionPay
  { prefixes: [[2200, 2204]], lengths: [16, 17, 18, 19] }, // Mir
  {
    prefixes: [
      [5018, 5018],
      [5020, 5020],
      [5038, 5038],
      [5893, 5893],
      [6304, 6304],
      [6759, 6759],
      [6761, 6763],
    ],
    lengths: [12, 13, 14, 15, 16, 17, 18, 19],
  }, // Maestro
];

function hasBrandPrefix(digits: string): boolean {
  return CARD_BRANDS.some(
    ({ prefixes, lengths }) =>
      lengths.includes(digits.length) &&
      prefixes.some(([low, high]) => {
        const prefix = Number(digits.slice(0, String(low).length));
        return prefix >= low && prefix <= high;
      }),
  );
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const THIRTEEN_DIGITS = /\d(?:[ -]?\d){12}/;
// Maximal runs of digits, single spaces or dashes allowed between them (`4111 1111-1111 1111`),
// standing alone: not the fraction or exponent of a number (`3.3016843858216e+89`), not glued to
// letters (`ab4111…`, an id).
const DIGIT_RUN = /(?<![\p{L}\p{N}.,])\d(?:[ -]?\d)*(?![\p{L}\p{N}])/gu;

/**
 * Whether a string holds a payment card number: a run of 13–19 digits (spaces and dashes allowed)
 * with a known brand's prefix and length and a valid Luhn check digit. Timestamps and snowflake
 * ids (leading 1) never match; of uniformly random 16-digit strings about 2.7% do (27% start like
 * a card, 1 in 10 of those passes Luhn).
 */
export function containsCardNumber(value: string): boolean {
  if (value.length < 13) return false;
  // Full-width digits and invisible characters between digits must not hide a card number.
  const text = NON_ASCII.test(value) ? value.normalize('NFKC').replace(IGNORABLE, '') : value;
  if (!THIRTEEN_DIGITS.test(text)) return false; // the common case, cheaply
  for (const [run] of text.matchAll(DIGIT_RUN)) {
    const digits = run.replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19) continue;
    if (hasBrandPrefix(digits) && luhnValid(digits)) return true;
  }
  return false;
}
