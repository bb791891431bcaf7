import { BaseRpcContext } from '@nestjs/microservices';

type RedisStreamsContextArgs = [
  stream: string,
  id: string,
  deliveryCount: number,
  partition: number,
  group: string,
  consumer: string,
  pattern: string,
];

/**
 * Context of one stream entry, given to `@EventPattern` handlers as `@Ctx()`.
 * @publicApi
 */
export class RedisStreamsContext extends BaseRpcContext<RedisStreamsContextArgs> {
  constructor(args: RedisStreamsContextArgs) {
    super(args);
  }

  /** Returns the key of the stream the entry was read from. */
  getStream(): string {
    return this.args[0];
  }

  /** Returns the entry id (e.g. `1718000000000-0`). */
  getId(): string {
    return this.args[1];
  }

  /**
   * Returns how many times the entry has been delivered, this delivery included: 1 for a fresh
   * entry, the group's times-delivered counter (XPENDING) for a re-read, claimed or retried one.
   */
  getDeliveryCount(): number {
    return this.args[2];
  }

  /** Returns the position of the stream in the configured `streams` list. */
  getPartition(): number {
    return this.args[3];
  }

  /** Returns the consumer group name. */
  getGroup(): string {
    return this.args[4];
  }

  /** Returns the consumer name within the group. */
  getConsumer(): string {
    return this.args[5];
  }

  /** Returns the event pattern (the entry's `pattern` field). */
  getPattern(): string {
    return this.args[6];
  }
}
