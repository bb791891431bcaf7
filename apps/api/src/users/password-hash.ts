import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes in a self-describing format: `scrypt$N$r$p$saltB64$hashB64`, so the cost can be
 * raised later without breaking stored hashes.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface ParsedPasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 16_384, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_PASSWORD_LENGTH = 1024;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;
}

function options({ N, r, p }: ScryptParams): ScryptOptions {
  // scrypt needs 128·N·r bytes; leave headroom over Node's 32 MiB default.
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** Parses a stored hash; null when it is not of our format or its parameters are out of range. */
export function parsePasswordHash(encoded: unknown): ParsedPasswordHash | null {
  if (typeof encoded !== 'string' || encoded.length > 1024) return null;
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : NaN));
  if (!isPowerOfTwo(N) || N > 1 << 20 || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return null;
  if (!BASE64.test(parts[4]) || !BASE64.test(parts[5])) return null;
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return null;
  return { N, r, p, salt, hash };
}

function format(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return [
    'scrypt',
    params.N,
    params.r,
    params.p,
    salt.toString('base64'),
    hash.toString('base64'),
  ].join('$');
}

function derive(
  password: string,
  salt: Buffer,
  length: number,
  params: ScryptParams,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options(params), (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return format(params, salt, await derive(password, salt, KEY_BYTES, params));
}

/** Synchronous variant for start-up (the dummy hash) and the hash-password script. */
export function hashPasswordSync(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): string {
  const salt = randomBytes(SALT_BYTES);
  return format(
    params,
    salt,
    scryptSync(password.normalize('NFC'), salt, KEY_BYTES, options(params)),
  );
}

/** Constant-time check of a password against a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed || password.length > MAX_PASSWORD_LENGTH) return false;
  const derived = await derive(password, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(derived, parsed.hash);
}
