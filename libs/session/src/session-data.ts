import {
  ForbiddenSessionDataError,
  InvalidSessionDataError,
  InvalidSessionMetaError,
  ServerOwnedSessionDataError,
  SessionDataTooLargeError,
  SessionDataTooManyKeysError,
} from './errors';
import { containsCardNumber, isForbiddenKey, normalizeDataKey } from './forbidden-data';
import type { ResolvedSessionOptions } from './session-options';
import type { SessionData, SessionMeta } from './session.types';

/**
 * Session data is stored as one hash field per top-level key (`d:<key>` → JSON value), so a patch
 * touches only its keys: concurrent updates of different keys cannot overwrite each other, and Lua
 * never re-encodes user JSON (cjson would turn `[]` into `{}` and round large numbers).
 */
export const DATA_FIELD_PREFIX = 'd:';

const MAX_KEY_LENGTH = 128;
const MAX_DEPTH = 32;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** What a deletion costs in a patch: its key and the `null` the client sent. */
const DELETION_BYTES = 'null'.length;

/** What data may hold and how much of it one write may carry. */
export interface DataRules {
  /** Normalized forbidden key terms (see forbidden-data.ts). */
  forbiddenKeys: readonly string[];
  /** Refuse values that are payment card numbers. */
  refuseCardNumbers: boolean;
  /** Bytes of one patch (deletions included) and of the whole data. */
  maxBytes: number;
  /** Top-level keys one patch may name. */
  maxKeys: number;
  /** Normalized top-level keys this write may not set (server-owned); empty for the server. */
  serverOwned: readonly string[];
}

/** What the server itself may write (server-owned keys too): the rules of `create()`. */
export function serverDataRules(options: ResolvedSessionOptions): DataRules {
  return {
    forbiddenKeys: options.forbiddenDataKeys,
    refuseCardNumbers: options.refuseCardNumbers,
    maxBytes: options.maxDataBytes,
    maxKeys: options.maxPatchKeys,
    serverOwned: [],
  };
}

export interface EncodedPatch {
  /** Alternating field name and JSON value; an empty value deletes the field. */
  fields: string[];
  keys: string[];
  /** Size of the entries the patch sets, as stored (deletions count 0 here). */
  bytes: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkKey(key: string, path: string, rules: DataRules): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidSessionDataError(
      `Session data key at "${path}" must be 1 to ${MAX_KEY_LENGTH} characters`,
    );
  }
  if (RESERVED_KEYS.has(key)) {
    throw new InvalidSessionDataError(`Session data key "${path}" is reserved`);
  }
  if (isForbiddenKey(key, rules.forbiddenKeys)) throw new ForbiddenSessionDataError(path);
}

/** Walks a value: keys allowed, only JSON types, bounded depth, no card numbers. */
function checkValue(value: unknown, path: string, rules: DataRules, depth: number): void {
  if (depth > MAX_DEPTH)
    throw new InvalidSessionDataError(`Session data at "${path}" is nested too deeply`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (rules.refuseCardNumbers && containsCardNumber(value))
      throw new ForbiddenSessionDataError(path, 'value');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new InvalidSessionDataError(`Session data at "${path}" is not a finite number`);
    if (rules.refuseCardNumbers && Number.isSafeInteger(value) && containsCardNumber(String(value)))
      throw new ForbiddenSessionDataError(path, 'value');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkValue(item, `${path}[${i}]`, rules, depth + 1));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      checkKey(key, childPath, rules);
      checkValue(item, childPath, rules, depth + 1);
    }
    return;
  }
  throw new InvalidSessionDataError(
    `Session data at "${path}" is not a JSON value (${typeof value})`,
  );
}

/** Size of one stored entry, as the Lua scripts count it: key bytes + JSON bytes. */
export function entrySize(key: string, json: string): number {
  return Buffer.byteLength(key, 'utf8') + Buffer.byteLength(json, 'utf8');
}

/**
 * Validates a patch (JSON merge patch at the top level: `null` removes a key, `undefined` is
 * ignored) and encodes it into hash fields. Throws a typed error before anything is written.
 * A deletion counts its key and `null` against the byte limit and one against the key limit, so
 * a patch of hundreds of deletions is as bounded as one of hundreds of values.
 */
export function encodeDataPatch(patch: unknown, rules: DataRules): EncodedPatch {
  if (!isPlainObject(patch))
    throw new InvalidSessionDataError('Session data must be a plain JSON object');
  const fields: string[] = [];
  const keys: string[] = [];
  let bytes = 0;
  let patchBytes = 0;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    // Counted before the (costlier) checks, so an oversize patch is refused cheaply.
    if (keys.length >= rules.maxKeys) {
      const named = Object.values(patch).filter((v) => v !== undefined).length;
      throw new SessionDataTooManyKeysError(named, rules.maxKeys, 'patch');
    }
    checkKey(key, key, rules);
    if (rules.serverOwned.length > 0 && rules.serverOwned.includes(normalizeDataKey(key)))
      throw new ServerOwnedSessionDataError(key);
    checkValue(value, key, rules, 1);
    const json = value === null ? '' : JSON.stringify(value);
    const size = entrySize(key, json === '' ? 'null' : json);
    if (json !== '') bytes += size;
    patchBytes += json === '' ? Buffer.byteLength(key, 'utf8') + DELETION_BYTES : size;
    // A patch alone over the limit is refused here; the script checks the merged total.
    if (patchBytes > rules.maxBytes) throw new SessionDataTooLargeError(patchBytes, rules.maxBytes);
    fields.push(DATA_FIELD_PREFIX + key, json);
    keys.push(key);
  }
  return { fields, keys, bytes };
}

/** Initial data of a new session: like a patch, where `null` simply means absent. */
export function encodeInitialData(data: unknown, rules: DataRules): EncodedPatch {
  const patch = encodeDataPatch(data ?? {}, rules);
  const fields: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < patch.fields.length; i += 2) {
    if (patch.fields[i + 1] === '') continue;
    fields.push(patch.fields[i], patch.fields[i + 1]);
    keys.push(patch.keys[i / 2]);
  }
  return { fields, keys, bytes: patch.bytes };
}

/** Rebuilds the data object from a session hash's `d:` fields. */
export function decodeData(hash: Record<string, string>): SessionData {
  const data: SessionData = Object.create(null) as SessionData;
  for (const [field, json] of Object.entries(hash)) {
    if (field.startsWith(DATA_FIELD_PREFIX)) {
      data[field.slice(DATA_FIELD_PREFIX.length)] = JSON.parse(json) as SessionData[string];
    }
  }
  return { ...data };
}

const META_LIMITS: Record<keyof SessionMeta, number> = { userAgent: 512, ip: 64, deviceLabel: 128 };

/**
 * Validates device metadata. A user agent is client-controlled, so an over-long one is cut, not
 * refused; an over-long ip or label is a caller bug and is refused.
 */
export function normalizeMeta(meta: unknown): Required<SessionMeta> {
  if (meta === undefined || meta === null) return { userAgent: '', ip: '', deviceLabel: '' };
  if (!isPlainObject(meta)) throw new InvalidSessionMetaError('Session meta must be an object');
  const result: Required<SessionMeta> = { userAgent: '', ip: '', deviceLabel: '' };
  for (const name of Object.keys(META_LIMITS) as (keyof SessionMeta)[]) {
    const value = meta[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string')
      throw new InvalidSessionMetaError(`Session meta "${name}" must be a string`);
    if (value.length > META_LIMITS[name] && name !== 'userAgent') {
      throw new InvalidSessionMetaError(
        `Session meta "${name}" is longer than ${META_LIMITS[name]} characters`,
      );
    }
    result[name] = truncate(value, META_LIMITS[name]);
  }
  return result;
}

/** Cuts to at most `max` UTF-16 units without leaving half of a surrogate pair. */
function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
