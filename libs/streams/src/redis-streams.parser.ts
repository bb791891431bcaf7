import { DATA_FIELD, PATTERN_FIELD } from './redis-streams.constants';

/** One entry as Redis returns it; `fields` is null when the entry was deleted (trimmed). */
export interface RawStreamEntry {
  id: string;
  fields: Record<string, string> | null;
}

export interface StreamBatch {
  stream: string;
  entries: RawStreamEntry[];
}

export interface AutoClaimReply {
  cursor: string;
  entries: RawStreamEntry[];
  /** Ids that were pending but no longer exist (Redis 7+; already removed from the PEL). */
  deletedIds: string[];
}

export type DecodedEntry =
  { ok: true; pattern: string; data: unknown; rawData: string } | { ok: false; reason: string };

const str = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;

/** `[k1, v1, k2, v2, ...]` → object; null/non-array (a deleted entry) → null. Keeps the first k. */
export function parseFields(raw: unknown): Record<string, string> | null {
  if (!Array.isArray(raw)) return null;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = str(raw[i]);
    const value = str(raw[i + 1]);
    if (key !== undefined && value !== undefined && !(key in fields)) fields[key] = value;
  }
  return fields;
}

/** `[[id, fields | null], ...]` → entries; items that are not `[id, ...]` are skipped. */
export function parseEntries(raw: unknown): RawStreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const entries: RawStreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item)) continue;
    const id = str(item[0]);
    if (id !== undefined) entries.push({ id, fields: parseFields(item[1]) });
  }
  return entries;
}

/** XREADGROUP / XREAD reply: null on timeout, else `[[stream, entries], ...]`. */
export function parseReadReply(raw: unknown): StreamBatch[] {
  if (!Array.isArray(raw)) return [];
  const batches: StreamBatch[] = [];
  for (const item of raw) {
    if (!Array.isArray(item)) continue;
    const stream = str(item[0]);
    if (stream !== undefined) batches.push({ stream, entries: parseEntries(item[1]) });
  }
  return batches;
}

/** XAUTOCLAIM reply: `[cursor, entries]` (6.2) or `[cursor, entries, deletedIds]` (7.0+). */
export function parseAutoClaimReply(raw: unknown): AutoClaimReply {
  if (!Array.isArray(raw)) return { cursor: '0-0', entries: [], deletedIds: [] };
  const deleted = Array.isArray(raw[2]) ? (raw[2] as unknown[]) : [];
  return {
    cursor: str(raw[0]) ?? '0-0',
    entries: parseEntries(raw[1]),
    deletedIds: deleted.map(str).filter((id): id is string => id !== undefined),
  };
}

/** Wire format: `pattern` = non-empty pattern string, `data` = JSON. Other fields are ignored. */
export function decodeEntry(fields: Record<string, string>): DecodedEntry {
  const pattern = fields[PATTERN_FIELD];
  if (pattern === undefined || pattern === '') {
    return { ok: false, reason: `Malformed entry: no "${PATTERN_FIELD}" field` };
  }
  const rawData = fields[DATA_FIELD];
  if (rawData === undefined) {
    return { ok: false, reason: `Malformed entry: no "${DATA_FIELD}" field` };
  }
  try {
    const data: unknown = JSON.parse(rawData);
    return { ok: true, pattern, data, rawData };
  } catch (err) {
    return {
      ok: false,
      reason: `Malformed entry: "${DATA_FIELD}" is not JSON (${describeError(err)})`,
    };
  }
}

/**
 * A readable message for an error of any shape. Nest turns a handler's exception into an
 * `{ status: 'error', message }` object (plain Errors become "Internal server error"; throw an
 * RpcException to keep the message).
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'message' in err) {
    const message = err.message;
    if (typeof message === 'string') return message;
    if (message !== undefined) return safeJson(message);
  }
  return safeJson(err);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Error replies of Redis start with a code word, e.g. "NOGROUP No such key ...". */
export function isRedisError(err: unknown, code: string): boolean {
  return err instanceof Error && err.message.startsWith(code);
}
