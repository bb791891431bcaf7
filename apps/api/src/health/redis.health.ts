import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { SessionStore } from '@app/session';

export const REDIS_PING_TIMEOUT_MS = 1000;

/**
 * Up when the session library's Redis client answers PING within REDIS_PING_TIMEOUT_MS. The
 * answer says only up or down: why (host names, ports, driver errors) goes to the log, not to
 * whoever can reach /health.
 */
@Injectable()
export class RedisHealthIndicator {
  private readonly logger = new Logger(RedisHealthIndicator.name);

  constructor(
    private readonly store: SessionStore,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check(key: string) {
    const result = this.indicator.check(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), REDIS_PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.store.ping(), timeout]);
      return result.up();
    } catch (error) {
      this.logger.warn(`Redis did not answer PING (${(error as Error).message})`);
      return result.down();
    } finally {
      clearTimeout(timer);
    }
  }
}
