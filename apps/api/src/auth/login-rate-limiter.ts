import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { SESSION_REDIS } from '@app/session';
import { API_CONFIG } from '../api.constants';
import type { ApiConfig } from '../config';
import type { RateLimitScope } from '../metrics/metrics.service';

export const LOGIN_RATE_WINDOW_MS = 60_000;

/**
 * One fixed-window counter: INCR, and start the window on the first hit (or if a counter somehow
 * lost its TTL). A single-key script, so it is atomic and runs unchanged on Redis Cluster.
 * Returns { count, milliseconds left in the window }.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`;

type HitCommand = (key: string, windowMs: number) => Promise<[number, number]>;

export type RateLimitDecision =
  { allowed: true } | { allowed: false; scope: RateLimitScope; retryAfterSeconds: number };

/**
 * At most LOGIN_RATE_LIMIT login attempts per minute per user id and per client IP, counted in
 * Redis under the session prefix so the limit holds across api instances. 0 turns it off.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly logger = new Logger(LoginRateLimiter.name);
  private readonly hitCommand: HitCommand;

  constructor(
    @Inject(SESSION_REDIS) redis: Redis | Cluster,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {
    const commands = redis as unknown as Record<string, HitCommand | undefined>;
    if (typeof commands.apiLoginRateHit !== 'function') {
      redis.defineCommand('apiLoginRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    }
    this.hitCommand = commands.apiLoginRateHit!.bind(redis);
  }

  get enabled(): boolean {
    return this.config.loginRateLimit > 0;
  }

  key(scope: RateLimitScope, value: string): string {
    return `${this.config.sessionPrefix}:login-attempts:${scope}:${value}`;
  }

  /** Counts one attempt against both limits; refused when either is over. */
  async hit(userId: string, ip: string): Promise<RateLimitDecision> {
    if (!this.enabled) return { allowed: true };
    let results: [number, number][];
    try {
      // Separate single-key calls: the two keys may live in different cluster slots.
      results = await Promise.all([
        this.hitCommand(this.key('user', userId), LOGIN_RATE_WINDOW_MS),
        this.hitCommand(this.key('ip', ip), LOGIN_RATE_WINDOW_MS),
      ]);
    } catch (error) {
      this.logger.warn(`Login rate limiter unavailable: ${(error as Error).message}`);
      throw new ServiceUnavailableException('Session store unavailable');
    }
    const scopes: RateLimitScope[] = ['user', 'ip'];
    const over = results
      .map(([count, ttl], i) => ({ scope: scopes[i], count: Number(count), ttlMs: Number(ttl) }))
      .filter(({ count }) => count > this.config.loginRateLimit);
    if (over.length === 0) return { allowed: true };
    // Retry when every exceeded window has ended.
    const last = over.reduce((a, b) => (b.ttlMs > a.ttlMs ? b : a));
    return {
      allowed: false,
      scope: last.scope,
      retryAfterSeconds: Math.max(1, Math.ceil(last.ttlMs / 1000)),
    };
  }
}
