import type { Cluster, Redis } from 'ioredis';
import { DATA_FIELD, PATTERN_FIELD } from './redis-streams.constants';
import { parseEntries } from './redis-streams.parser';

export interface StreamEntry<T = unknown> {
  id: string;
  /** The `pattern` field; undefined when absent. */
  pattern: string | undefined;
  /** `data` parsed as JSON; the raw string when it is not JSON; undefined when absent. */
  data: T;
  /** Every field of the entry (e.g. `error`, `originalId` of a dead-letter entry). */
  fields: Record<string, string>;
}

export interface ReadEntriesOptions {
  start?: string;
  end?: string;
  count?: number;
}

/** Reads a stream (XRANGE) into `{ id, pattern, data, fields }`, for tests and tools. */
export async function readEntries<T = unknown>(
  redis: Redis | Cluster,
  stream: string,
  options: ReadEntriesOptions = {},
): Promise<StreamEntry<T>[]> {
  const args: (string | number)[] = [stream, options.start ?? '-', options.end ?? '+'];
  if (options.count !== undefined) args.push('COUNT', options.count);
  const raw = await redis.call('XRANGE', ...args);
  return parseEntries(raw).map(({ id, fields }) => {
    const f = fields ?? {};
    const rawData = f[DATA_FIELD];
    let data: unknown = rawData;
    if (rawData !== undefined) {
      try {
        data = JSON.parse(rawData);
      } catch {
        data = rawData;
      }
    }
    return { id, pattern: f[PATTERN_FIELD], data: data as T, fields: f };
  });
}
