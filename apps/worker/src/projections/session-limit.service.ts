import { Inject, Injectable, Logger } from '@nestjs/common';
import { SessionService, SessionStore } from '@app/session';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';

/**
 * The per-user concurrent session limit (off when SESSION_MAX_PER_USER is 0). When a user has
 * more live sessions than allowed, the least recently used are revoked, each by the library's
 * revoke script: state change, `session.revoked` (reason `limit`) and the cache invalidation in
 * one step. Idempotent: a replayed event finds the user already within the limit.
 */
@Injectable()
export class SessionLimitService {
  private readonly logger = new Logger('SessionLimit');

  constructor(
    private readonly sessions: SessionService,
    private readonly store: SessionStore,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  get enabled(): boolean {
    return this.config.maxSessionsPerUser > 0;
  }

  /** Revokes the least recently used sessions beyond the limit; returns how many. */
  async enforce(userId: string): Promise<number> {
    if (!this.enabled) return 0;
    const max = this.config.maxSessionsPerUser;
    const live = (await this.store.lastAccessTimes(userId, max)).sort(
      (a, b) => a.lastAccessedAt - b.lastAccessedAt,
    );
    const excess = live.length - this.config.maxSessionsPerUser;
    let revoked = 0;
    for (const victim of live.slice(0, Math.max(0, excess))) {
      if (await this.sessions.revoke(victim.sessionId, 'limit', { userId })) revoked++;
    }
    if (revoked > 0)
      this.logger.log(
        `Revoked ${revoked} session(s) of a user over the limit of ${this.config.maxSessionsPerUser}`,
      );
    return revoked;
  }
}
