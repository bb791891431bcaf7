import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Cluster, Redis } from 'ioredis';
import { SESSION_REDIS } from '@app/session';

export const REDIS_PING_TIMEOUT_MS = 1000;

/** Up when the session library's Redis client answers PING within REDIS_PING_TIMEOUT_MS. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(SESSION_REDIS) private readonly redis: Redis | Cluster,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check(key: string) {
    const result = this.indicator.check(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), REDIS_PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.redis.ping(), timeout]);
      return result.up();
    } catch (error) {
      return result.down({ message: `Redis did not answer PING (${(error as Error).message})` });
    } finally {
      clearTimeout(timer);
    }
  }
}
