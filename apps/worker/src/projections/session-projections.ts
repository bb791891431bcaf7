import { Injectable } from '@nestjs/common';
import { type SessionEvent, SessionIndex } from '@app/session';
import { SessionLimitService } from './session-limit.service';

/**
 * What each lifecycle event does to the projections: the one copy, used by the live consumer
 * (SessionEventsController). The rebuild (rebuild/projection-reconcile.ts) settles sessions with
 * the same store scripts, from a replay. Every step is idempotent.
 */
@Injectable()
export class SessionProjections {
  constructor(
    private readonly index: SessionIndex,
    private readonly limits: SessionLimitService,
  ) {}

  async apply(event: SessionEvent): Promise<void> {
    switch (event.type) {
      case 'session.created':
        if (await this.index.indexSession(event.sessionId, event.userId))
          await this.limits.enforce(event.userId);
        return;
      case 'session.rotated':
        // Enforced again: a rotation that raced the limit's revoke of the old id (the revoke
        // found it gone) brings the session back under its new id, over the limit.
        if (await this.index.indexSession(event.sessionId, event.userId, event.previousSessionId))
          await this.limits.enforce(event.userId);
        return;
      case 'session.revoked':
      case 'session.expired':
        await this.index.unindexSession(event.sessionId, event.userId);
        return;
      case 'user.revoked':
        await this.index.purgeRevokedSessions(
          event.userId,
          event.revokedBefore,
          event.exceptSessionId,
        );
        return;
      case 'session.updated':
        // No projection depends on session data.
        return;
    }
  }
}
