import type { Acknowledger } from './redis-streams.acknowledger';
import type { Dispatcher } from './redis-streams.dispatcher';
import type { ConsumerGroups } from './redis-streams.groups';
import { renewLeases } from './redis-streams.lease';
import { describeError, isRedisError, parseAutoClaimReply } from './redis-streams.parser';
import type { HeldEntry, ServerRuntime } from './redis-streams.runtime';

/**
 * Every `claimIntervalMs`: renews the leases of the entries this consumer holds (so a slow
 * handler is not taken over), then takes over entries idle for `claimIdleMs` (XAUTOCLAIM) from
 * dead consumers, as far as there is room, then runs `afterTick` (the retention gap check).
 */
export class Claimer {
  private timer: NodeJS.Timeout | undefined;
  private run: Promise<void> | undefined;
  private readonly cursors = new Map<string, string>();

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly streams: readonly string[],
    private readonly dispatcher: Dispatcher,
    private readonly acknowledger: Acknowledger,
    private readonly groups: ConsumerGroups,
    /** Called after each tick's claims (starts the retention gap check). */
    private readonly afterTick: () => void = () => undefined,
  ) {}

  /** Runs a tick after `ms`, then one every `claimIntervalMs` until close(). */
  schedule(ms: number): void {
    if (this.runtime.isClosed()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.run = this.tick()
        .catch((err: unknown) =>
          this.runtime.logger.error(`Claiming failed: ${describeError(err)}`),
        )
        .finally(() => {
          this.run = undefined;
          this.schedule(this.runtime.config.claimIntervalMs);
        });
    }, ms);
  }

  /** No further tick. */
  cancel(): void {
    clearTimeout(this.timer);
  }

  /** Settles when the tick running now (if any) is over. */
  async idle(): Promise<void> {
    await this.run;
  }

  /**
   * Renews the leases of held entries, then takes over idle entries of dead consumers, then
   * checks for retention gaps.
   */
  async tick(): Promise<void> {
    await this.renewHeldLeases();
    await this.claimIdle();
    if (!this.runtime.isClosed()) this.afterTick();
  }

  private async claimIdle(): Promise<void> {
    const { config, clustered, logger } = this.runtime;
    for (const stream of this.streams) {
      const room = this.dispatcher.room;
      if (this.runtime.isClosed() || room <= 0) return;
      let reply: unknown;
      try {
        reply = await this.runtime
          .commands()
          .call(
            'XAUTOCLAIM',
            stream,
            config.group,
            config.consumer,
            config.claimIdleMs,
            this.cursors.get(stream) ?? '0-0',
            'COUNT',
            Math.min(config.batchSize, room),
          );
      } catch (err) {
        if (!isRedisError(err, 'NOGROUP')) {
          // Cluster: one master down must not stop claiming on the others.
          if (!clustered) throw err;
          logger.error(`Claiming on ${stream} failed: ${describeError(err)}`);
          continue;
        }
        await this.groups.ensure();
        continue;
      }
      const { cursor, entries, deletedIds } = parseAutoClaimReply(reply);
      this.cursors.set(stream, cursor);
      // Redis 7 drops deleted entries from the PEL itself and reports their ids.
      if (deletedIds.length > 0) this.acknowledger.skipTrimmed(stream, deletedIds);
      // Claimed while closing: they stay pending (owned by us) and become claimable again.
      if (this.runtime.isClosed()) return;
      await this.dispatcher.dispatchBatches([{ stream, entries }], 'claimed');
    }
  }

  /** Resets the idle time of held entries still ours; marks the others lost (not started). */
  private async renewHeldLeases(): Promise<void> {
    const { config, logger } = this.runtime;
    const byStream = new Map<string, HeldEntry[]>();
    for (const entry of this.dispatcher.heldEntries()) {
      const list = byStream.get(entry.stream) ?? [];
      list.push(entry);
      byStream.set(entry.stream, list);
    }
    for (const [stream, entries] of byStream) {
      if (this.runtime.isClosed()) return;
      try {
        const ids = entries.map((e) => e.id);
        const commands = this.runtime.commands();
        const renewed = new Set(
          await renewLeases(commands, stream, config.group, config.consumer, ids),
        );
        const lost = entries.filter((e) => !renewed.has(e.id) && this.dispatcher.holds(e));
        lost.forEach((e) => (e.lost = true));
        if (lost.length > 0) {
          logger.warn(
            `${lost.length} entr${lost.length === 1 ? 'y' : 'ies'} of ${stream} no longer owned by ` +
              `${config.consumer} (claimed elsewhere or gone); not starting them`,
          );
        }
      } catch (err) {
        logger.error(`Renewing leases on ${stream} failed: ${describeError(err)}`);
      }
    }
  }
}
