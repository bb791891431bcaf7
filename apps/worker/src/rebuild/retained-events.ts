import { parseSessionEvent, type SessionEvent, type SessionStore } from '@app/session';

const BATCH = 1000;

export interface RetainedEventsRead {
  events: number;
  /** Entries that are not a lifecycle event this release reads (skipped). */
  unreadable: number;
}

/**
 * Hands every retained event of every partition to `onEvent`, in stream order per partition
 * (so per user), calling `onProgress` after each batch. The one reader of the rebuild and the
 * check.
 */
export async function forEachRetainedEvent(
  store: SessionStore,
  onEvent: (event: SessionEvent) => void | Promise<void>,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<RetainedEventsRead> {
  const total = await store.retainedEventCount();
  let events = 0;
  let unreadable = 0;
  for (const stream of store.eventStreams()) {
    let after = '-';
    for (;;) {
      const entries = await store.readEvents(stream, after, BATCH);
      for (const { id, pattern, json } of entries) {
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
      if (entries.length < BATCH) break;
    }
  }
  return { events, unreadable };
}
