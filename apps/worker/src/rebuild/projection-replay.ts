import { revokedByEpoch, type SessionEvent } from '@app/session';

export interface ReplayedSession {
  userId: string;
  createdAt: number;
  /** Its absolute expiry, as its created (or rotated) event states it. */
  absoluteExpiresAt: number;
  /** The revoke-all epoch a revoke-others kept this session through. */
  keptThrough: number;
}

/**
 * Replays lifecycle events in memory into the projections they imply: which sessions are live,
 * per user, with their creation time. Pure: it reads nothing but the events, so comparing it with
 * the live indexes checks the worker's work.
 */
export class ProjectionReplay {
  readonly sessions = new Map<string, ReplayedSession>();
  /** Sessions an event ended (revoked, expired, rotated away, revoked by an epoch): id → user. */
  readonly ended = new Map<string, string>();
  events = 0;

  apply(event: SessionEvent): void {
    this.events++;
    switch (event.type) {
      case 'session.created':
        this.sessions.set(event.sessionId, {
          userId: event.userId,
          createdAt: event.createdAt,
          absoluteExpiresAt: event.absoluteExpiresAt,
          keptThrough: -1,
        });
        break;
      case 'session.rotated': {
        const previous = this.sessions.get(event.previousSessionId);
        this.end(event.previousSessionId, event.userId);
        this.sessions.set(event.sessionId, {
          userId: event.userId,
          createdAt: event.createdAt,
          absoluteExpiresAt: event.absoluteExpiresAt,
          keptThrough: previous?.keptThrough ?? -1,
        });
        break;
      }
      case 'session.revoked':
      case 'session.expired':
        this.end(event.sessionId, event.userId);
        break;
      case 'user.revoked':
        for (const [sessionId, session] of this.sessions) {
          if (session.userId !== event.userId) continue;
          if (sessionId === event.exceptSessionId) session.keptThrough = event.revokedBefore;
          else if (revokedByEpoch(session.createdAt, session.keptThrough, event.revokedBefore))
            this.end(sessionId, session.userId);
        }
        break;
      case 'session.updated':
        break;
    }
  }

  private end(sessionId: string, userId: string): void {
    this.sessions.delete(sessionId);
    this.ended.set(sessionId, userId);
  }

  /** userId → (sessionId → createdAt), the shape of the live user indexes. */
  userIndexes(): Map<string, Map<string, number>> {
    const indexes = new Map<string, Map<string, number>>();
    for (const [sessionId, session] of this.sessions) {
      let index = indexes.get(session.userId);
      if (!index) indexes.set(session.userId, (index = new Map<string, number>()));
      index.set(sessionId, session.createdAt);
    }
    return indexes;
  }
}
