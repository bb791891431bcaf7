import type { Cluster, Redis } from 'ioredis';
import { DATA_FIELD, PATTERN_FIELD } from './redis-streams.constants';
import { parseFields } from './redis-streams.parser';

/** One entry of a dead-letter stream (fields as the DeadLetterer writes them). */
export interface DeadLetter {
  /** Its id in the dead-letter stream. */
  id: string;
  pattern: string;
  data: string;
  error: string;
  /** Why it was dead-lettered (see DeadLetterReason); '' for letters older than the field. */
  reason: string;
  deliveryCount: number;
  originalStream: string;
  originalId: string;
  deadLetteredAt: number;
}

/** Which dead letters to replay: all of a stream, or those with these ids / reason / pattern. */
export interface DeadLetterSelection {
  ids?: readonly string[];
  reason?: string;
  pattern?: string;
  /** At most this many (oldest first). Default: all. */
  limit?: number;
}

/** Entry field of a replayed entry naming the id it had when first written. */
export const REPLAY_OF_FIELD = 'replayOf';

const PAGE = 500;

/** The dead letters of one dead-letter stream, oldest first, `limit` at most. */
export async function listDeadLetters(
  redis: Redis | Cluster,
  deadLetterStream: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  let start = '-';
  while (letters.length < limit) {
    const count = Math.min(PAGE, limit - letters.length);
    const page = (await redis.call('XRANGE', deadLetterStream, start, '+', 'COUNT', count)) as [
      string,
      unknown,
    ][];
    for (const [id, raw] of page) letters.push(toDeadLetter(id, parseFields(raw) ?? {}));
    if (page.length < count) break;
    start = `(${page[page.length - 1][0]}`;
  }
  return letters;
}

/**
 * Puts dead letters back on the streams they came from (a new entry with the same `pattern` and
 * `data`, plus `replayOf` = the original id) and deletes them from the dead-letter stream, each
 * in one MULTI (both streams share a hash slot), so a letter is never both replayed and kept, nor
 * lost. For after a fix: a release that reads the event, a bug mended. Returns the letters
 * replayed.
 */
export async function replayDeadLetters(
  redis: Redis | Cluster,
  deadLetterStream: string,
  selection: DeadLetterSelection = {},
): Promise<DeadLetter[]> {
  const wanted = selection.ids ? new Set(selection.ids) : undefined;
  const replayed: DeadLetter[] = [];
  const limit = selection.limit ?? Number.POSITIVE_INFINITY;
  for (const letter of await listDeadLetters(redis, deadLetterStream)) {
    if (replayed.length >= limit) break;
    if (wanted && !wanted.has(letter.id)) continue;
    if (selection.reason !== undefined && letter.reason !== selection.reason) continue;
    if (selection.pattern !== undefined && letter.pattern !== selection.pattern) continue;
    if (!letter.originalStream || !letter.pattern) continue;
    const results = await redis
      .multi()
      .call(
        'XADD',
        letter.originalStream,
        '*',
        PATTERN_FIELD,
        letter.pattern,
        DATA_FIELD,
        letter.data,
        REPLAY_OF_FIELD,
        letter.originalId,
      )
      .call('XDEL', deadLetterStream, letter.id)
      .exec();
    const failure = results?.find(([err]) => err)?.[0];
    if (failure) throw failure;
    if (results) replayed.push(letter);
  }
  return replayed;
}

function toDeadLetter(id: string, fields: Record<string, string>): DeadLetter {
  return {
    id,
    pattern: fields[PATTERN_FIELD] ?? '',
    data: fields[DATA_FIELD] ?? '',
    error: fields.error ?? '',
    reason: fields.reason ?? '',
    deliveryCount: Number(fields.deliveryCount ?? 0),
    originalStream: fields.originalStream ?? '',
    originalId: fields.originalId ?? '',
    deadLetteredAt: Number(fields.deadLetteredAt ?? 0),
  };
}
