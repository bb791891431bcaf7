import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { SessionStore } from '@app/session';

/** How often the offset to the Redis clock is measured again. */
export const CLOCK_SYNC_INTERVAL_MS = 30_000;

/**
 * The Redis clock, read locally: every event time (a stream entry id, the `at` of an event) and
 * every expiry is Redis time, so lags are measured against it too, never against this host's
 * clock. The offset is measured at start and every 30 s (half the round trip added); 0 until then.
 */
@Injectable()
export class RedisClock implements OnApplicationBootstrap, OnApplicationShutdown {
  private offsetMs = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly store: SessionStore) {}

  onApplicationBootstrap(): void {
    void this.sync();
    this.timer = setInterval(() => void this.sync(), CLOCK_SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Redis time now (epoch ms), estimated. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Measures the offset; keeps the last one when Redis does not answer. */
  async sync(): Promise<void> {
    const sent = Date.now();
    try {
      const redisNow = await this.store.redisTime();
      const received = Date.now();
      this.offsetMs = redisNow - (sent + received) / 2;
    } catch {
      // Redis down: the health check says so; the last offset stays.
    }
  }
}

/** The Redis time (epoch ms) of a stream entry id `<ms>-<seq>`. */
export function entryIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
