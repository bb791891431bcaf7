import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { SessionStore } from '@app/session';
import { API_CONFIG } from '../api.constants';
import type { ApiConfig } from '../config';
import type { RateLimitScope } from '../metrics/metrics.service';

export const LOGIN_RATE_WINDOW_MS = 60_000;

type LoginFailureKeys = ReturnType<SessionStore['keys']['loginFailures']>;

export type LoginAttempt =
  | { allowed: true; counted: LoginFailureKeys | null }
  | { allowed: false; scope: RateLimitScope; retryAfterMs: number };

/**
 * Failed logins per minute, counted in Redis (so the limits hold across api instances):
 *
 * - per address (`ip`, LOGIN_RATE_LIMIT), whatever the user ids: one source cannot guess at
 *   scale. A request this limit refuses counts against no user.
 * - per user id and address (`user-ip`, LOGIN_RATE_LIMIT): the lock-out a guesser meets, and
 *   only he meets it; the user logs in from his own address.
 * - per user id from everywhere (`user`, LOGIN_USER_FAILURE_LIMIT, much higher): a ceiling
 *   against guessing one account from many addresses. One address adds at most LOGIN_RATE_LIMIT
 *   a window to it (twice that across a window edge), and config.ts refuses a ceiling one
 *   address could reach, so locking a user out for everyone takes many sources.
 *
 * Each attempt is counted before the password check (so parallel guesses cannot slip under a
 * limit) and given back when it succeeds: only failures count.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly logger = new Logger(LoginRateLimiter.name);

  constructor(
    private readonly store: SessionStore,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  get enabled(): boolean {
    return this.config.loginRateLimit > 0;
  }

  /** Counts the attempt as a failure unless a limit is reached; `succeeded` gives it back. */
  async attempt(userId: string, ip: string): Promise<LoginAttempt> {
    if (!this.enabled) return { allowed: true, counted: null };
    const keys = this.store.keys.loginFailures(userId, ip);
    const limit = this.config.loginRateLimit;
    return this.unavailableAs503(async () => {
      const byIp = await this.store.reserveCounters(
        [{ key: keys.ip, limit }],
        LOGIN_RATE_WINDOW_MS,
      );
      if (!byIp.counted) return { allowed: false, scope: 'ip', retryAfterMs: byIp.retryAfterMs };
      const byUser = await this.store.reserveCounters(
        [
          { key: keys.userIp, limit },
          { key: keys.user, limit: this.config.loginUserFailureLimit },
        ],
        LOGIN_RATE_WINDOW_MS,
      );
      if (byUser.counted) return { allowed: true, counted: keys };
      // Separate calls: the address's key and the user's keys may live in different cluster slots.
      await this.store.refundCounters([keys.ip]);
      return {
        allowed: false,
        scope: byUser.index === 0 ? 'user-ip' : 'user',
        retryAfterMs: byUser.retryAfterMs,
      };
    });
  }

  /** A successful login is not a failure: its counts are given back. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    if (!attempt.allowed || attempt.counted === null) return;
    const { ip, userIp, user } = attempt.counted;
    try {
      await Promise.all([
        this.store.refundCounters([ip]),
        this.store.refundCounters([userIp, user]),
      ]);
    } catch (error) {
      // The login succeeded; a count left behind expires with its window.
      this.logger.warn(`Login counters not refunded: ${(error as Error).message}`);
    }
  }

  private async unavailableAs503<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.logger.warn(`Login rate limiter unavailable: ${(error as Error).message}`);
      throw new ServiceUnavailableException('Session store unavailable');
    }
  }
}
