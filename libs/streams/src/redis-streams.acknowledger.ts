import { AckBatcher } from './redis-streams.ack-batcher';
import type { ConsumerGroups } from './redis-streams.groups';
import { describeError } from './redis-streams.parser';
import type { HeldEntry, ServerRuntime, StreamsCounters } from './redis-streams.runtime';
import { delay } from './redis-streams.scheduler';

/** Attempts at acknowledging a handled entry before leaving it to the claim. */
export const ACK_ATTEMPTS = 8;

/**
 * Acknowledges handled entries: batched per stream and event-loop turn (AckBatcher), one XACK
 * (XACKDEL with `deleteAcked` when Redis has it) per batch, a failed batch retried.
 */
export class Acknowledger {
  private readonly batcher = new AckBatcher((stream, ids) => this.send(stream, ids));

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly groups: ConsumerGroups,
    private readonly counters: StreamsCounters,
    /** Told of pending entries found trimmed: read, never handled (a retention gap too). */
    private readonly onTrimmed: (stream: string, ids: string[]) => void = () => undefined,
  ) {}

  /**
   * Retries a failed XACK (its node fails over, the connection drops) with `retryDelay`: left
   * unacknowledged, the entry would be handled again only after `claimIdleMs`. XACK is
   * idempotent, so a retry after a lost reply is harmless.
   */
  async ack(entry: Pick<HeldEntry, 'stream' | 'id'>): Promise<void> {
    const { logger, config, signal } = this.runtime;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.batcher.ack(entry.stream, entry.id);
        return;
      } catch (err) {
        if (attempt >= ACK_ATTEMPTS || this.runtime.isClosed()) throw err;
        const wait = config.retryDelay(attempt);
        logger.warn(
          `XACK of ${entry.stream} ${entry.id} failed: ${describeError(err)}; retrying in ${wait} ms`,
        );
        if (!(await delay(wait, signal))) throw err;
      }
    }
  }

  /** Entries deleted from the stream while pending: acknowledge, count, report, move on. */
  skipTrimmed(stream: string, ids: string[]): void {
    const { logger, config } = this.runtime;
    this.counters.trimmed += ids.length;
    this.counters.lastProgressAt = Date.now();
    logger.warn(
      `${ids.length} pending entr${ids.length === 1 ? 'y' : 'ies'} of ${stream} were trimmed; skipped`,
    );
    this.runtime
      .commands()
      .call('XACK', stream, config.group, ...ids)
      .catch((err: unknown) =>
        logger.error(`XACK of trimmed entries failed: ${describeError(err)}`),
      );
    this.onTrimmed(stream, ids);
  }

  /** One XACK (XACKDEL … ACKED with `deleteAcked`) for a batch of entries of one stream. */
  private async send(stream: string, ids: string[]): Promise<void> {
    const { group, deleteAcked } = this.runtime.config;
    if (deleteAcked && this.groups.getCapabilities().xackdel) {
      await this.groups.call(stream, [
        'XACKDEL',
        stream,
        group,
        'ACKED',
        'IDS',
        ids.length,
        ...ids,
      ]);
    } else {
      await this.runtime.commands().call('XACK', stream, group, ...ids);
    }
  }
}
