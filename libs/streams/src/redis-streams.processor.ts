import type { MessageHandler } from '@nestjs/microservices';
import type { Acknowledger } from './redis-streams.acknowledger';
import { RedisStreamsContext } from './redis-streams.context';
import type { DeadLetterer } from './redis-streams.dead-letterer';
import { renewLeases } from './redis-streams.lease';
import { describeError } from './redis-streams.parser';
import type { HeldEntry, ServerRuntime, StreamsCounters } from './redis-streams.runtime';
import { delay, Semaphore } from './redis-streams.scheduler';

export type HandlerOutcome = { ok: true } | { ok: false; error: unknown };

/** The server's side of handling: Nest's deserializer, handler lookup and processing hooks. */
export interface HandlerHost {
  /** The packet as the deserializer makes it, with its pattern normalized; may throw. */
  deserialize(
    pattern: string,
    data: unknown,
    stream: string,
  ): Promise<{ pattern: string; data: unknown }>;
  handlerFor(pattern: string): MessageHandler | null;
  /** Settles when the handler's result (value, Promise or Observable) has completed. */
  invoke(handler: MessageHandler, data: unknown, ctx: RedisStreamsContext): Promise<HandlerOutcome>;
}

/**
 * Handles one entry: finds its handler, runs it within the concurrency limit, acknowledges it on
 * success, retries it in place after `retryDelayMs` on failure (the delivery recorded in Redis),
 * dead-letters it after `maxDeliveries`.
 */
export class EntryProcessor {
  /** Handlers running: at most `concurrency`. */
  private readonly slots: Semaphore;
  /** close() gave up waiting: late finishers must not acknowledge. */
  private abandoned = false;

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly host: HandlerHost,
    private readonly acknowledger: Acknowledger,
    private readonly deadLetterer: DeadLetterer,
    private readonly counters: StreamsCounters,
  ) {
    this.slots = new Semaphore(runtime.config.concurrency);
  }

  get running(): number {
    return this.slots.running;
  }

  /** After close() stopped waiting: what still finishes stays pending, unacknowledged. */
  abandon(): void {
    this.abandoned = true;
  }

  async deadLetter(
    entry: HeldEntry,
    fields: Record<string, string>,
    error: string,
    malformed = false,
  ): Promise<void> {
    if (!this.abandoned) await this.deadLetterer.deadLetter(entry, fields, error, malformed);
  }

  async process(
    entry: HeldEntry,
    rawPattern: string,
    rawData: unknown,
    fields: Record<string, string>,
  ): Promise<void> {
    if (this.mustNotStart(entry)) return;
    const { maxDeliveries } = this.runtime.config;
    if (entry.deliveryCount > maxDeliveries) {
      const why = `Delivered ${entry.deliveryCount} times (maxDeliveries ${maxDeliveries}) without being acknowledged`;
      return this.deadLetter(entry, fields, why);
    }
    let packet: { pattern: string; data: unknown };
    try {
      packet = await this.host.deserialize(rawPattern, rawData, entry.stream);
    } catch (err) {
      return this.deadLetter(entry, fields, `Deserialization failed: ${describeError(err)}`, true);
    }
    const handler = this.host.handlerFor(packet.pattern);
    if (!handler) {
      if (this.mustNotStart(entry)) return;
      this.runtime.logger.debug(
        `No event handler for pattern "${packet.pattern}" (${entry.stream} ${entry.id}); acknowledged`,
      );
      await this.acknowledger.ack(entry);
      this.counters.ignored++;
      return;
    }
    while (!this.mustNotStart(entry)) {
      const error = await this.attempt(entry, handler, packet, fields);
      if (error === undefined) return;
      const wait = this.runtime.config.retryDelayMs(entry.deliveryCount);
      this.runtime.logger.warn(
        `Handler of "${packet.pattern}" failed for ${entry.stream} ${entry.id} (delivery ` +
          `${entry.deliveryCount}/${maxDeliveries}): ${describeError(error.cause)}; retrying in ${wait} ms`,
      );
      // The slot is free meanwhile, but the ordering key stays blocked: order holds.
      if (!(await delay(wait, this.runtime.signal))) return;
      if (!(await this.recordRedelivery(entry))) return;
    }
  }

  /** One run of the handler in a concurrency slot; `{ cause }` when it failed and may be retried. */
  private async attempt(
    entry: HeldEntry,
    handler: MessageHandler,
    packet: { pattern: string; data: unknown },
    fields: Record<string, string>,
  ): Promise<{ cause: unknown } | undefined> {
    const { group, consumer, maxDeliveries } = this.runtime.config;
    await this.slots.acquire();
    try {
      if (this.mustNotStart(entry)) return undefined;
      const ctx = new RedisStreamsContext([
        entry.stream,
        entry.id,
        entry.deliveryCount,
        entry.partition,
        group,
        consumer,
        packet.pattern,
      ]);
      const outcome = await this.host.invoke(handler, packet.data, ctx);
      if (outcome.ok) {
        this.counters.processed++;
        if (!this.abandoned) await this.acknowledger.ack(entry);
        return undefined;
      }
      this.counters.failed++;
      if (entry.deliveryCount >= maxDeliveries) {
        await this.deadLetter(entry, fields, describeError(outcome.error));
        return undefined;
      }
      return { cause: outcome.error };
    } finally {
      this.slots.release();
    }
  }

  /** Bumps the entry's delivery counter in Redis (XCLAIM RETRYCOUNT) if it is still ours. */
  private async recordRedelivery(entry: HeldEntry): Promise<boolean> {
    const { group, consumer } = this.runtime.config;
    const next = entry.deliveryCount + 1;
    const ids = [entry.id];
    const renewed = await renewLeases(
      this.runtime.commands(),
      entry.stream,
      group,
      consumer,
      ids,
      next,
    );
    if (renewed.length === 0) {
      entry.lost = true;
      this.runtime.logger.warn(
        `${entry.stream} ${entry.id} was taken over or acknowledged elsewhere; not retrying`,
      );
      return false;
    }
    entry.deliveryCount = next;
    return true;
  }

  private mustNotStart(entry: HeldEntry): boolean {
    return this.runtime.isClosed() || entry.lost;
  }
}
