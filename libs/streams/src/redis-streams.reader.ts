import type { Redis } from 'ioredis';
import type { Dispatcher } from './redis-streams.dispatcher';
import type { ConsumerGroups } from './redis-streams.groups';
import { readGroup, readOwnPending, watchRead } from './redis-streams.group-reads';
import { describeError, isRedisError, parseReadReply } from './redis-streams.parser';
import type { ServerRuntime } from './redis-streams.runtime';
import { delay } from './redis-streams.scheduler';

/** Pause after an unexpected read error, so a persistent error does not spin. */
export const READ_ERROR_BACKOFF_MS = 1_000;

/**
 * Standalone Redis: the one read loop of the server, on its dedicated blocking connection (which
 * ioredis reconnects by itself). Re-reads this consumer's own pending entries, then blocks on
 * XREADGROUP over every stream; pauses while `concurrency` entries are held.
 */
export class StreamReader {
  private loop: Promise<void> | undefined;

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly client: Redis,
    private readonly streams: readonly string[],
    private readonly dispatcher: Dispatcher,
    private readonly groups: ConsumerGroups,
    /** Called once own pending entries were re-read (claiming may start). */
    private readonly onPendingRead: () => void,
  ) {}

  /** Exactly one read loop per server, whatever happens to the connection. */
  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      this.runtime.logger.error(`Read loop stopped: ${describeError(err)}`);
    });
  }

  /** Drops the connection (aborting the BLOCK) and waits for the loop to end. */
  async stop(): Promise<void> {
    const connected = this.client.status === 'ready';
    this.client.disconnect();
    // While reconnecting, the loop's read waits in ioredis's offline queue, which disconnect()
    // leaves as it is once the reconnect is cancelled: never answered, never failed. Nothing it
    // could still do needs waiting for (entries it read are the dispatcher's to drain).
    if (connected) await this.loop;
  }

  private async run(): Promise<void> {
    const { runtime, client, streams } = this;
    await readOwnPending(runtime, this.dispatcher, client, streams, (err) => this.onError(err));
    if (runtime.isClosed()) return;
    this.onPendingRead();
    const ids = streams.map(() => '>');
    while (!runtime.isClosed()) {
      await this.dispatcher.waitForRoom();
      if (runtime.isClosed()) break;
      try {
        const read = readGroup(runtime, client, streams, ids, runtime.config.blockMs);
        const reply = await watchRead(runtime, client, true, read);
        // Entries read while closing stay pending: re-read on restart or claimed elsewhere.
        if (runtime.isClosed()) break;
        await this.dispatcher.dispatchBatches(parseReadReply(reply), 'new');
      } catch (err) {
        if (!(await this.onError(err))) break;
      }
    }
  }

  /** Returns false when the loop must stop. */
  private async onError(err: unknown): Promise<boolean> {
    const { runtime } = this;
    if (runtime.isClosed() || this.client.status === 'end') return false;
    if (isRedisError(err, 'NOGROUP')) {
      // The stream or group vanished (deleted, or Redis restarted without persistence).
      runtime.logger.warn(`Consumer group missing, re-creating it: ${describeError(err)}`);
      try {
        await this.groups.ensure();
        return true;
      } catch (createErr) {
        err = createErr;
      }
    }
    runtime.logger.error(`Reading streams failed: ${describeError(err)}`);
    await delay(READ_ERROR_BACKOFF_MS, runtime.signal);
    return !runtime.isClosed();
  }
}
