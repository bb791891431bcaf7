import type { Acknowledger } from './redis-streams.acknowledger';
import {
  decodeEntry,
  describeError,
  type RawStreamEntry,
  type StreamBatch,
} from './redis-streams.parser';
import type { EntryProcessor } from './redis-streams.processor';
import {
  heldKey,
  type HeldEntry,
  type ServerRuntime,
  type StreamsCounters,
} from './redis-streams.runtime';
import { CapacityGate, KeyedSerializer } from './redis-streams.scheduler';

/** Where a batch came from: a read of new entries, a re-read of own pending ones, a claim. */
export type EntrySource = 'new' | 'pending' | 'claimed';

/**
 * Takes read or claimed entries in charge: each entry once (the read loops and the claimer may
 * meet the same one), decoded and keyed synchronously so entries of one ordering key run one at
 * a time in stream order, and held (counted against `concurrency`, which pauses reading) until
 * its handling settled. Entries waiting for an in-place retry leave room (up to `concurrency` of
 * them), so transient failures of some keys do not stop the others being read.
 */
export class Dispatcher {
  private readonly held = new Map<string, HeldEntry>();
  private readonly tasks = new Set<Promise<void>>();
  /** Entries held; reading and claiming pause at `concurrency`. */
  private readonly gate: CapacityGate;
  private readonly ordering = new KeyedSerializer();

  constructor(
    private readonly runtime: ServerRuntime,
    /** Stream → partition (its index in the configured streams). */
    private readonly partitions: ReadonlyMap<string, number>,
    private readonly processor: EntryProcessor,
    private readonly acknowledger: Acknowledger,
    private readonly counters: StreamsCounters,
    /** Shared with the processor, which excuses the entries waiting for a retry. */
    gate = new CapacityGate(runtime.config.concurrency),
  ) {
    this.gate = gate;
  }

  /** Entries held: queued or running. */
  get inFlight(): number {
    return this.gate.value;
  }

  /** How many more entries may be taken now. */
  get room(): number {
    return this.gate.free;
  }

  /** Resolves when fewer than `concurrency` entries are held (or on wakeAll()). */
  waitForRoom(): Promise<void> {
    return this.gate.waitForRoom();
  }

  /** Releases the read loops waiting for room (close()). */
  wakeAll(): void {
    this.gate.wakeAll();
  }

  /** The entries held now (lease renewal). */
  heldEntries(): HeldEntry[] {
    return [...this.held.values()];
  }

  /** Whether `entry` is the one held under its id (not a later dispatch of the same id). */
  holds(entry: HeldEntry): boolean {
    return this.held.get(heldKey(entry)) === entry;
  }

  async dispatchBatches(batches: StreamBatch[], source: EntrySource): Promise<void> {
    for (const { stream, entries } of batches) {
      const partition = this.partitions.get(stream);
      if (partition === undefined) continue;
      const fresh = entries.filter((e) => !this.held.has(heldKey({ stream, id: e.id })));
      const trimmed = fresh.filter((e) => e.fields === null).map((e) => e.id);
      if (trimmed.length > 0) this.acknowledger.skipTrimmed(stream, trimmed);
      const live = fresh.filter((e) => e.fields !== null);
      if (live.length === 0) continue;
      const ids = live.map((e) => e.id);
      const counts = source === 'new' ? undefined : await this.deliveryCounts(stream, ids);
      for (const entry of live) {
        const deliveryCount = counts ? counts.get(entry.id) : 1;
        // Not pending for this consumer any more (acknowledged or taken over meanwhile), or
        // dispatched by the other path (read loop / claim tick) while XPENDING was answering.
        if (deliveryCount === undefined || this.held.has(heldKey({ stream, id: entry.id })))
          continue;
        if (source === 'claimed') this.counters.claimed++;
        this.dispatch({ stream, partition, id: entry.id, deliveryCount, lost: false }, entry);
      }
    }
  }

  /** Waits for the entries held; false when `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.tasks.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = Promise.allSettled([...this.tasks]).then(() => true);
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Times-delivered counters (XPENDING) of entries this consumer owns. */
  private async deliveryCounts(stream: string, ids: string[]): Promise<Map<string, number>> {
    const { group, consumer } = this.runtime.config;
    const pipeline = this.runtime.commands().pipeline();
    ids.forEach((id) => pipeline.xpending(stream, group, id, id, 1));
    const results = (await pipeline.exec()) ?? [];
    const counts = new Map<string, number>();
    results.forEach(([err, reply], i) => {
      if (err || !Array.isArray(reply) || !Array.isArray(reply[0])) return;
      const [id, owner, , count] = reply[0] as unknown[];
      if (id === ids[i] && owner === consumer) counts.set(ids[i], Number(count));
    });
    return counts;
  }

  /** Holds the entry and chains its handling behind earlier entries of its ordering key. */
  private dispatch(entry: HeldEntry, raw: RawStreamEntry): void {
    const key = heldKey(entry);
    this.held.set(key, entry);
    this.gate.increment();
    const tracked: Promise<void> = this.handle(entry, raw.fields ?? {})
      .catch((err: unknown) =>
        this.runtime.logger.error(
          `Entry ${entry.stream} ${entry.id} failed: ${describeError(err)}`,
        ),
      )
      .finally(() => {
        this.held.delete(key);
        this.tasks.delete(tracked);
        this.gate.decrement();
      });
    this.tasks.add(tracked);
  }

  /** Synchronous up to the chaining, so entries of one key keep the order they were read in. */
  private handle(entry: HeldEntry, fields: Record<string, string>): Promise<void> {
    const decoded = decodeEntry(fields);
    if (!decoded.ok) return this.processor.deadLetter(entry, fields, decoded.reason, 'malformed');
    let orderingKey: string | undefined;
    try {
      orderingKey = this.runtime.config.orderingKey?.(decoded.data, decoded.pattern);
    } catch (err) {
      const why = `orderingKey failed: ${describeError(err)}`;
      return this.processor.deadLetter(entry, fields, why, 'malformed');
    }
    return this.ordering.run(orderingKey, () =>
      this.processor.process(entry, decoded.pattern, decoded.data, fields),
    );
  }
}
