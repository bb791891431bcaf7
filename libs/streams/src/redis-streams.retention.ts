import type { RedisStreamsRetentionGap } from './redis-streams.options';
import { describeError } from './redis-streams.parser';
import type { ServerRuntime, StreamsCounters } from './redis-streams.runtime';
import { loadScript, runScript } from './redis-streams.scripts';

/** Largest lag verified by reading the entries after the group's position (one XRANGE). */
export const GAP_CHECK_MAX_LAG = 10_000;

/**
 * Finds the entries a stream lost to trimming before the group read them
 * (scripts/checkRetentionGap-1.lua, which also corrects the group's read counter), counts them,
 * logs them and hands each gap to `onRetentionGap`. Run at start, before reading, and on every
 * claim tick.
 */
export class RetentionGaps {
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly streams: readonly string[],
    private readonly counters: StreamsCounters,
  ) {}

  /**
   * Starts a check unless one is running, without waiting for it: a master that does not answer
   * must not hold up the claim tick (lease renewals) that calls this.
   */
  checkInBackground(): void {
    this.running ??= this.check().finally(() => (this.running = undefined));
  }

  /** Checks every stream; never rejects (a failed check is logged and tried again next tick). */
  async check(): Promise<RedisStreamsRetentionGap[]> {
    const gaps: RedisStreamsRetentionGap[] = [];
    for (const [partition, stream] of this.streams.entries()) {
      if (this.runtime.isClosed()) break;
      try {
        const gap = await this.checkStream(stream, partition);
        if (gap) gaps.push(gap);
      } catch (err) {
        if (this.runtime.isClosed()) break;
        this.runtime.logger.error(`Retention check of ${stream} failed: ${describeError(err)}`);
      }
    }
    return gaps;
  }

  /**
   * Pending entries found trimmed (read, never handled: the consumer holding them died and the
   * stream was trimmed before they were claimed): lost like unread ones, reported the same way.
   */
  trimmedPending(stream: string, count: number): void {
    const partition = this.streams.indexOf(stream);
    if (partition < 0 || count <= 0) return;
    this.found({
      stream,
      partition,
      kind: 'pending',
      missed: count,
      lastDeliveredId: '',
      firstRetainedId: '',
    });
  }

  private async checkStream(
    stream: string,
    partition: number,
  ): Promise<RedisStreamsRetentionGap | undefined> {
    const { config } = this.runtime;
    const script = loadScript('checkRetentionGap-1.lua');
    const reply = await runScript(
      this.runtime.commands(),
      script,
      [stream],
      [config.group, GAP_CHECK_MAX_LAG],
    );
    if (!Array.isArray(reply) || reply.length < 3) return undefined;
    const missed = Number(reply[0]) < 0 ? null : Number(reply[0]);
    const gap: RedisStreamsRetentionGap = {
      stream,
      partition,
      kind: 'unread',
      missed,
      lastDeliveredId: String(reply[1]),
      firstRetainedId: String(reply[2]),
    };
    this.found(gap);
    return gap;
  }

  private found(gap: RedisStreamsRetentionGap): void {
    const { missed, kind } = gap;
    this.counters.retentionGaps++;
    this.counters.missedEntries += missed ?? 0;
    const what =
      kind === 'pending'
        ? `${missed} pending entr${missed === 1 ? 'y was' : 'ies were'} trimmed before being handled`
        : `${missed ?? 'an unknown number of'} entr${missed === 1 ? 'y was' : 'ies were'} trimmed ` +
          `before group ${this.runtime.config.group} read them (last delivered ${gap.lastDeliveredId}, ` +
          `oldest retained ${gap.firstRetainedId || 'none'})`;
    this.runtime.logger.error(`Retention gap on ${gap.stream}: ${what}`);
    this.report(gap);
  }

  private report(gap: RedisStreamsRetentionGap): void {
    const handler = this.runtime.config.onRetentionGap;
    if (!handler) return;
    // Not awaited: a long repair must not hold up the check (or the start-up) that found it.
    void Promise.resolve()
      .then(() => handler(gap))
      .catch((err: unknown) =>
        this.runtime.logger.error(`onRetentionGap for ${gap.stream} failed: ${describeError(err)}`),
      );
  }
}
