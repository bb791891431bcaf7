import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { type SessionRequest, SessionStore } from '@app/session';
import { API_CONFIG } from '../api.constants';
import type { ApiConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { RateLimitedError } from '../rate-limit/rate-limited.error';

export const SESSION_WRITE_WINDOW_MS = 60_000;

/**
 * At most SESSION_WRITE_RATE_LIMIT session-changing requests (update, rotate, revoke…) per
 * minute per session, counted in Redis so the limit holds across instances; beyond it 429 with
 * Retry-After, before the write reaches Redis. Every write appends an event to a stream, so this
 * bounds how fast one session can grow Redis whatever the size limits let through.
 *
 * The bucket is the session as a whole, not its current id: rotation keeps the user id and the
 * creation time, so rotating does not buy a fresh bucket. A session only spends its own: a
 * stolen session that is over its limit cannot stop the user's other sessions from revoking it.
 * Logout is not limited: it ends the session, once.
 */
@Injectable()
export class SessionWriteRateLimit implements CanActivate {
  private readonly logger = new Logger(SessionWriteRateLimit.name);
  constructor(
    private readonly store: SessionStore,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limit = this.config.sessionWriteRateLimit;
    const session = context.switchToHttp().getRequest<SessionRequest>().session;
    // The session guard ran first: no session here means a route that does not need one.
    if (limit === 0 || !session) return true;
    let reservation;
    try {
      reservation = await this.store.reserveCounters(
        [{ key: this.store.keys.sessionWrites(session.userId, session.createdAt), limit }],
        SESSION_WRITE_WINDOW_MS,
      );
    } catch (error) {
      this.logger.warn(`Session write rate limiter unavailable: ${(error as Error).message}`);
      throw new ServiceUnavailableException('Session store unavailable');
    }
    if (reservation.counted) return true;
    this.metrics.writeRateLimited.inc();
    throw new RateLimitedError(
      'Too many changes to this session, try again later',
      reservation.retryAfterMs,
    );
  }
}
