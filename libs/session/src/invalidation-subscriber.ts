import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { SubscriberState } from './session-stats';

export interface InvalidationSubscriberOptions {
  channel: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export interface InvalidationSubscriberEvents {
  message(raw: string): void;
  /** `subscribed` only once a SUBSCRIBE is confirmed on the current connection. */
  state(state: SubscriberState): void;
  pingFailure(): void;
}

/**
 * Holds the pub/sub connection that carries cache invalidations and says when it can be trusted.
 *
 * Pub/sub is at-most-once, so the cache may serve hits only while this connection is known to be
 * subscribed: it turns `down` on close/reconnecting (ioredis resubscribes after a reconnect but
 * emits no event for it, so we subscribe again ourselves and wait for the confirmation), and on a
 * PING that goes unanswered (a silently dead connection delivers nothing and reports nothing).
 */
export class InvalidationSubscriber {
  private readonly logger = new Logger('InvalidationSubscriber');
  private state: SubscriberState = 'connecting';
  private pingTimer?: NodeJS.Timeout;
  private stopped = false;
  private generation = 0;

  constructor(
    private readonly connection: Redis | Cluster,
    private readonly options: InvalidationSubscriberOptions,
    private readonly events: InvalidationSubscriberEvents,
  ) {
    connection.on('message', (channel: string, message: string) => {
      if (channel === options.channel) events.message(message);
    });
    connection.on('ready', () => void this.subscribe());
    for (const event of ['close', 'reconnecting', 'end'])
      connection.on(event, () => this.setState('down'));
    connection.on('error', (error: Error) =>
      this.logger.debug(`Subscriber connection: ${error.message}`),
    );
  }

  get currentState(): SubscriberState {
    return this.state;
  }

  async start(): Promise<void> {
    this.pingTimer = setInterval(() => void this.ping(), this.options.pingIntervalMs);
    this.pingTimer.unref();
    if (this.connection.status === 'wait') {
      await this.connection
        .connect()
        .catch((error: Error) =>
          this.logger.warn(`Subscriber cannot connect yet: ${error.message}`),
        );
    } else if (this.connection.status === 'ready') {
      await this.subscribe();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pingTimer);
    this.setState('stopped');
    this.connection.disconnect();
  }

  private async subscribe(): Promise<void> {
    const generation = ++this.generation;
    try {
      await this.connection.subscribe(this.options.channel);
      // A newer connection attempt may have started meanwhile; only the latest may report.
      if (generation === this.generation && this.connection.status === 'ready')
        this.setState('subscribed');
    } catch (error) {
      this.logger.warn(`Subscribe failed: ${(error as Error).message}`);
      this.setState('down');
    }
  }

  private async ping(): Promise<void> {
    if (this.stopped || this.state !== 'subscribed') return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.pingTimeoutMs);
    });
    const answered = await Promise.race([
      this.connection.ping().then(
        () => 'pong' as const,
        () => 'timeout' as const,
      ),
      timeout,
    ]);
    clearTimeout(timer);
    if (answered === 'timeout' && !this.stopped) {
      this.logger.warn(
        'Subscriber did not answer PING in time; reconnecting, cache bypassed meanwhile',
      );
      this.events.pingFailure();
      this.setState('down');
      this.connection.disconnect(true);
    }
  }

  private setState(state: SubscriberState): void {
    if (this.stopped && state !== 'stopped') return;
    if (state === this.state) return;
    this.state = state;
    this.events.state(state);
  }
}
