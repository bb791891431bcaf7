import type { Redis } from 'ioredis';
import type { Dispatcher } from './redis-streams.dispatcher';
import { parseReadReply, type StreamBatch } from './redis-streams.parser';
import type { ServerRuntime } from './redis-streams.runtime';

/** A ready reader silent for BLOCK plus this long is considered dead, and reconnected. */
export const READER_SILENCE_GRACE_MS = 10_000;

/**
 * XREADGROUP of this consumer: `ids` per stream ('>' for new entries, an id to page through its
 * own pending ones); blocks up to `blockMs` when given.
 */
export function readGroup(
  runtime: ServerRuntime,
  client: Redis,
  streams: readonly string[],
  ids: readonly string[],
  blockMs?: number,
): Promise<unknown> {
  const { group, consumer, batchSize } = runtime.config;
  const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
  return client.call(
    'XREADGROUP',
    'GROUP',
    group,
    consumer,
    'COUNT',
    batchSize,
    ...block,
    'STREAMS',
    ...streams,
    ...ids,
  );
}

/**
 * A half-open TCP connection never answers the BLOCK: if the reader looks ready but stays
 * silent for BLOCK + grace, drop the socket (standalone, `reconnect`: ioredis re-sends the read;
 * cluster: the read fails and the slot's loop connects again).
 */
export async function watchRead<T>(
  runtime: ServerRuntime,
  reader: Redis,
  reconnect: boolean,
  read: Promise<T>,
): Promise<T> {
  const limit = runtime.config.blockMs + READER_SILENCE_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => {
      if (runtime.isClosed()) return;
      if (reader.status === 'ready') {
        runtime.logger.warn(`No reply to XREADGROUP within ${limit} ms; reconnecting the reader`);
        reader.disconnect(reconnect);
      }
      arm();
    }, limit);
  };
  arm();
  try {
    return await read;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * This consumer's own pending entries first (XREADGROUP with id 0, which ignores BLOCK): what a
 * previous run of this consumer read but did not acknowledge. Paged per stream. `onError`
 * returns whether to go on (or throws).
 */
export async function readOwnPending(
  runtime: ServerRuntime,
  dispatcher: Dispatcher,
  reader: Redis,
  streams: readonly string[],
  onError: (err: unknown) => Promise<boolean>,
): Promise<void> {
  const cursors = new Map(streams.map((stream) => [stream, '0']));
  while (cursors.size > 0 && !runtime.isClosed()) {
    await dispatcher.waitForRoom();
    if (runtime.isClosed()) return;
    const keys = [...cursors.keys()];
    let batches: StreamBatch[];
    try {
      const ids = keys.map((key) => cursors.get(key)!);
      batches = parseReadReply(await readGroup(runtime, reader, keys, ids));
    } catch (err) {
      if (!(await onError(err))) return;
      continue;
    }
    for (const key of keys) {
      const entries = batches.find((b) => b.stream === key)?.entries ?? [];
      if (entries.length === 0) cursors.delete(key);
      else cursors.set(key, entries[entries.length - 1].id);
    }
    if (runtime.isClosed()) return;
    await dispatcher.dispatchBatches(batches, 'pending');
  }
}
