import { parseSessionEvent, type SessionEvent, type SessionStore } from '@app/session';
import { compareStreamIds, type StreamSnapshot } from './stream-snapshot';

const BATCH = 1000;

export interface RetainedEventsRead {
  events: number;
  /** Entries that are not a lifecycle event this release reads (skipped). */
  unreadable: number;
}

/**
 * Hands every retained event of every partition to `onEvent`, in stream order per partition
 * (so per user), calling `onProgress` after each batch. The one reader of the rebuild and the
 * check. With `upTo`, stops at each stream's snapshot position (events appended since are the
 * live consumer's).
 */
export async function forEachRetainedEvent(
  store: SessionStore,
  onEvent: (event: SessionEvent) => void | Promise<void>,
  onProgress: (done: number, total: number) => void = () => undefined,
  upTo?: StreamSnapshot,
): Promise<RetainedEventsRead> {
  const total = await store.retainedEventCount();
  let events = 0;
  let unreadable = 0;
  for (const stream of store.eventStreams()) {
    let after = '-';
    const last = upTo?.get(stream);
    if (last === '0-0') continue;
    for (;;) {
      const entries = await store.readEvents(stream, after, BATCH);
      let done = entries.length < BATCH;
      for (const { id, pattern, json } of entries) {
        if (last !== undefined && compareStreamIds(id, last) > 0) {
          done = true;
          break;
        }
        after = id;
        events++;
        let event: SessionEvent;
        try {
          event = parseSessionEvent(JSON.parse(json ?? ''), { pattern, id });
        } catch {
          unreadable++;
          continue;
        }
        await onEvent(event);
      }
      onProgress(events, total);
      if (done) break;
    }
  }
  return { events, unreadable };
}
