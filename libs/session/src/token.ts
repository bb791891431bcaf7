import { createHash, randomFillSync, timingSafeEqual } from 'node:crypto';
import * as crypto from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';

const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }
).hash;

/**
 * Token = `<sessionId>.<secret>`.
 *
 * - sessionId `<partition>-<uuid v4>` is the public handle: it appears in events, logs, URLs.
 * - secret is 32 random bytes (256 bits), base64url. Redis stores only its SHA-256.
 */
const SESSION_ID =
  /^(\d{1,4})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const MAX_TOKEN_LENGTH = 100;

export interface ParsedToken {
  sessionId: string;
  partition: number;
  secret: string;
}

export function newSessionId(partition: number): string {
  return `${partition}-${uuidv4()}`;
}

const SECRET_BYTES = 32;
// Secrets are cut from a pool the CSPRNG refills once per 128 secrets instead of one call each
// (the source is the same; uuid and crypto.randomUUID pool the same way). Bytes handed out are
// zeroed at once, so the pool never keeps a secret that is in use.
const pool = Buffer.alloc(SECRET_BYTES * 128);
let poolOffset = pool.length;

export function newSecret(): string {
  if (poolOffset + SECRET_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + SECRET_BYTES);
  poolOffset += SECRET_BYTES;
  const secret = bytes.toString('base64url');
  bytes.fill(0);
  return secret;
}

export function formatToken(sessionId: string, secret: string): string {
  return `${sessionId}.${secret}`;
}

export function hashSecret(secret: string): string {
  // crypto.hash (Node ≥ 20.12) is the one-shot digest: 0.26 µs here, createHash 0.66 µs, on
  // every request's validation.
  return oneShotHash
    ? oneShotHash('sha256', secret, 'hex')
    : createHash('sha256').update(secret).digest('hex');
}

/** The partition encoded in a session id, or null when the id is not ours. */
export function parseSessionId(sessionId: unknown, partitions: number): number | null {
  if (typeof sessionId !== 'string' || sessionId.length > 64) return null;
  const match = SESSION_ID.exec(sessionId);
  if (!match) return null;
  const partition = Number(match[1]);
  return partition < partitions && String(partition) === match[1] ? partition : null;
}

/** Parses without touching Redis; null for anything that is not a well-formed token. */
export function parseToken(token: unknown, partitions: number): ParsedToken | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const dot = token.indexOf('.');
  if (dot < 0) return null;
  const sessionId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  const partition = parseSessionId(sessionId, partitions);
  if (partition === null || !SECRET.test(secret)) return null;
  return { sessionId, partition, secret };
}

/** Constant-time string comparison (for CSRF tokens and other short secrets). */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
