import type { MessageHandler } from '@nestjs/microservices';
import type { Acknowledger } from './redis-streams.acknowledger';
import { RedisStreamsContext } from './redis-streams.context';
import type { DeadLetterer } from './redis-streams.dead-letterer';
import { renewLeases } from './redis-streams.lease';
import { describeError } from './redis-streams.parser';
import type {
  DeadLetterReason,
  HeldEntry,
  ServerRuntime,
  StreamsCounters,
} from './redis-streams.runtime';
import { CapacityGate, delay, Semaphore } from './redis-streams.scheduler';

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

/** What one run of a handler came to, when it did not succeed. */
type AttemptEnd =
  /** Failed, may be retried in place. */
  | { retry: true; cause: unknown }
  /** Timed out: released to a claim (left pending, lease no longer renewed). */
  | { retry: false };

const TIMED_OUT = Symbol('timed out');

/**
 * Handles one entry: finds its handler, runs it within the concurrency limit and its time limit,
 * acknowledges it on success, retries it in place after `retryDelayMs` on a transient failure
 * (the delivery recorded in Redis), dead-letters it at once on a permanent one and after
 * `maxDeliveries` otherwise, and releases it to a claim when its handler times out.
 */
export class EntryProcessor {
  /** Handlers running: at most `concurrency`. */
  private readonly slots: Semaphore;
  /** close() gave up waiting: late finishers must not acknowledge. */
  private abandoned = false;
  private stuckHandlers = 0;

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly host: HandlerHost,
    private readonly acknowledger: Acknowledger,
    private readonly deadLetterer: DeadLetterer,
    private readonly counters: StreamsCounters,
    /** The dispatcher's: entries waiting for a retry are excused from it. */
    private readonly gate?: CapacityGate,
  ) {
    this.slots = new Semaphore(runtime.config.concurrency);
  }

  get running(): number {
    return this.slots.running;
  }

  /** Handlers that timed out and have not settled yet. */
  get stuck(): number {
    return this.stuckHandlers;
  }

  /** After close() stopped waiting: what still finishes stays pending, unacknowledged. */
  abandon(): void {
    this.abandoned = true;
  }

  async deadLetter(
    entry: HeldEntry,
    fields: Record<string, string>,
    error: string,
    reason: DeadLetterReason,
  ): Promise<void> {
    if (!this.abandoned) await this.deadLetterer.deadLetter(entry, fields, error, reason);
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
      return this.deadLetter(entry, fields, why, 'over-delivered');
    }
    let packet: { pattern: string; data: unknown };
    try {
      packet = await this.host.deserialize(rawPattern, rawData, entry.stream);
    } catch (err) {
      const why = `Deserialization failed: ${describeError(err)}`;
      return this.deadLetter(entry, fields, why, 'malformed');
    }
    const handler = this.host.handlerFor(packet.pattern);
    if (!handler) return this.unhandled(entry, packet.pattern, fields);
    while (!this.mustNotStart(entry)) {
      const end = await this.attempt(entry, handler, packet, fields);
      if (!end?.retry) return;
      const wait = this.runtime.config.retryDelayMs(entry.deliveryCount);
      this.runtime.logger.warn(
        `Handler of "${packet.pattern}" failed for ${entry.stream} ${entry.id} (delivery ` +
          `${entry.deliveryCount}/${maxDeliveries}): ${describeError(end.cause)}; retrying in ${wait} ms`,
      );
      // The slot is free meanwhile, and the entry leaves room for reading; its ordering key
      // stays blocked: order holds.
      this.gate?.excuse();
      try {
        if (!(await delay(wait, this.runtime.signal))) return;
      } finally {
        this.gate?.unexcuse();
      }
      if (!(await this.recordRedelivery(entry))) return;
    }
  }

  /** No handler for the pattern: acknowledged and counted, or dead-lettered (`unhandledPatterns`). */
  private async unhandled(
    entry: HeldEntry,
    pattern: string,
    fields: Record<string, string>,
  ): Promise<void> {
    if (this.mustNotStart(entry)) return;
    if (this.runtime.config.unhandledPatterns === 'dead-letter') {
      const why = `No handler for pattern "${pattern}"`;
      return this.deadLetter(entry, fields, why, 'unhandled');
    }
    this.runtime.logger.debug(
      `No event handler for pattern "${pattern}" (${entry.stream} ${entry.id}); acknowledged`,
    );
    // Counted first, as `processed` is: ignored whether or not its XACK gets through.
    this.counters.ignored++;
    await this.acknowledger.ack(entry);
    this.counters.lastProgressAt = Date.now();
  }

  /** One run of the handler in a concurrency slot; how it ended when it did not succeed. */
  private async attempt(
    entry: HeldEntry,
    handler: MessageHandler,
    packet: { pattern: string; data: unknown },
    fields: Record<string, string>,
  ): Promise<AttemptEnd | undefined> {
    const { group, consumer, maxDeliveries, isPermanentFailure } = this.runtime.config;
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
      const outcome = await this.invokeWithin(handler, packet.data, ctx);
      if (outcome === TIMED_OUT) return await this.timedOut(entry, packet.pattern, fields);
      if (outcome.ok) {
        this.counters.processed++;
        if (!this.abandoned) {
          await this.acknowledger.ack(entry);
          this.counters.lastProgressAt = Date.now();
        }
        return undefined;
      }
      this.counters.failed++;
      if (isPermanentFailure(outcome.error)) {
        await this.deadLetter(entry, fields, describeError(outcome.error), 'permanent');
        return undefined;
      }
      if (entry.deliveryCount >= maxDeliveries) {
        await this.deadLetter(entry, fields, describeError(outcome.error), 'failed');
        return undefined;
      }
      return { retry: true, cause: outcome.error };
    } finally {
      this.slots.release();
    }
  }

  /**
   * Runs the handler, giving up after `handlerTimeoutMs`: the handler cannot be cancelled, so it
   * is left running (counted as stuck until it settles) and its result is ignored.
   */
  private invokeWithin(
    handler: MessageHandler,
    data: unknown,
    ctx: RedisStreamsContext,
  ): Promise<HandlerOutcome | typeof TIMED_OUT> {
    const run = this.host.invoke(handler, data, ctx);
    const limit = this.runtime.config.handlerTimeoutMs;
    if (limit <= 0) return run;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), limit);
    });
    return Promise.race([run, timeout]).then((result) => {
      clearTimeout(timer);
      if (result === TIMED_OUT) {
        this.stuckHandlers++;
        void run.finally(() => this.stuckHandlers--);
      }
      return result;
    });
  }

  /** A timed-out run: dead-lettered on its last delivery, else released to a claim. */
  private async timedOut(
    entry: HeldEntry,
    pattern: string,
    fields: Record<string, string>,
  ): Promise<AttemptEnd | undefined> {
    const { handlerTimeoutMs, maxDeliveries, claimIdleMs } = this.runtime.config;
    this.counters.timedOut++;
    const why = `Handler of "${pattern}" timed out after ${handlerTimeoutMs} ms`;
    if (entry.deliveryCount >= maxDeliveries) {
      await this.deadLetter(entry, fields, why, 'timeout');
      return undefined;
    }
    // Not retried here (the stuck run may still finish): without its lease the entry becomes
    // claimable after claimIdleMs, by whichever consumer claims first.
    entry.lost = true;
    this.runtime.logger.error(
      `${why} (${entry.stream} ${entry.id}, delivery ${entry.deliveryCount}/${maxDeliveries}); ` +
        `released: claimable after ${claimIdleMs} ms`,
    );
    return { retry: false };
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
