/**
 * Cache invalidations published by the Lua scripts (and the worker) on the invalidation channel.
 * `at` is the Redis time of the change, so receivers can measure the propagation delay.
 */
export type Invalidation =
  | { kind: 'session'; sessionId: string; userId: string; reason: string; at: number }
  | { kind: 'changed'; sessionId: string; userId: string; at: number }
  | { kind: 'user'; userId: string; revokedBefore: number; exceptSessionId?: string; at: number }
  | { kind: 'flush'; at: number };

/** What apps observe: revocations only (a data change is not one). */
export type RevocationNotice = Exclude<Invalidation, { kind: 'changed' }>;

interface WireMessage {
  k?: unknown;
  id?: unknown;
  uid?: unknown;
  r?: unknown;
  rb?: unknown;
  x?: unknown;
  at?: unknown;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
/** A session's user id: '' for a guest session (see SessionKeys.userSessionsOf). */
const isUserId = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses a channel message; null for anything malformed (never throws on the subscriber). */
export function parseInvalidation(raw: string): Invalidation | null {
  let message: WireMessage;
  try {
    message = JSON.parse(raw) as WireMessage;
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null || !isNumber(message.at)) return null;
  const { at } = message;
  switch (message.k) {
    case 'session':
      return isString(message.id) && isUserId(message.uid)
        ? {
            kind: 'session',
            sessionId: message.id,
            userId: message.uid,
            reason: isString(message.r) ? message.r : 'revoked',
            at,
          }
        : null;
    case 'changed':
      return isString(message.id) && isUserId(message.uid)
        ? { kind: 'changed', sessionId: message.id, userId: message.uid, at }
        : null;
    case 'user':
      if (!isString(message.uid) || !isNumber(message.rb)) return null;
      return isString(message.x)
        ? {
            kind: 'user',
            userId: message.uid,
            revokedBefore: message.rb,
            exceptSessionId: message.x,
            at,
          }
        : { kind: 'user', userId: message.uid, revokedBefore: message.rb, at };
    case 'flush':
      return { kind: 'flush', at };
    default:
      return null;
  }
}

/** The wire form, for publishers outside Lua (flush-all, tests). */
export function formatFlushMessage(at: number): string {
  return JSON.stringify({ k: 'flush', at });
}
