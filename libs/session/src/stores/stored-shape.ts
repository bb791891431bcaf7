import type { SessionData } from '../session.types';
import type { MiddlewareSessionData } from './middleware-store-options';

/**
 * A middleware session as stored: its JSON form (what connect-redis stores), one data key per
 * top-level key, with the cookie's `expires` left out: the middlewares recompute it from
 * `originalMaxAge` on every request, so storing it would make every request a change.
 */
export function toStoredShape(session: object): MiddlewareSessionData {
  const plain = JSON.parse(JSON.stringify(session) ?? '{}') as unknown;
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return {};
  const shape = plain as MiddlewareSessionData;
  if (typeof shape.cookie === 'object' && shape.cookie !== null) {
    const cookie = { ...(shape.cookie as Record<string, unknown>) };
    delete cookie.expires;
    shape.cookie = cookie;
  }
  return shape;
}

/** Each top-level key's JSON: what a later write is compared with. */
export function jsonValues(shape: MiddlewareSessionData | SessionData): Map<string, string> {
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(shape))
    if (value !== undefined) values.set(key, JSON.stringify(value));
  return values;
}

/** A fresh object of the given JSON values (the app may mutate it: the cache's stays intact). */
export function fromJsonValues(values: ReadonlyMap<string, string>): MiddlewareSessionData {
  const session: MiddlewareSessionData = {};
  for (const [key, json] of values) session[key] = JSON.parse(json) as unknown;
  if (typeof session.cookie !== 'object' || session.cookie === null) session.cookie = {};
  return session;
}

/**
 * The keys a request changed, as a merge patch (null removes a key): its session compared with
 * what it read, not with what is stored now, so two overlapping requests that change different
 * keys each write only their own.
 */
export function changedKeys(
  read: ReadonlyMap<string, string>,
  now: ReadonlyMap<string, string>,
): SessionData {
  const patch: SessionData = {};
  for (const [key, json] of now)
    if (read.get(key) !== json) patch[key] = JSON.parse(json) as SessionData[string];
  for (const key of read.keys()) if (!now.has(key)) patch[key] = null;
  return patch;
}
