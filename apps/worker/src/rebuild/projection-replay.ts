import { revokedByEpoch, type SessionEvent } from '@app/session';

interface ReplayedSession {
  userId: string;
  createdAt: number;
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
  events = 0;

  apply(event: SessionEvent): void {
    this.events++;
    switch (event.type) {
      case 'session.created':
        this.sessions.set(event.sessionId, {
          userId: event.userId,
          createdAt: event.createdAt,
          keptThrough: -1,
        });
        break;
      case 'session.rotated': {
        const previous = this.sessions.get(event.previousSessionId);
        this.sessions.delete(event.previousSessionId);
        this.sessions.set(event.sessionId, {
          userId: event.userId,
          createdAt: event.createdAt,
          keptThrough: previous?.keptThrough ?? -1,
        });
        break;
      }
      case 'session.revoked':
      case 'session.expired':
        this.sessions.delete(event.sessionId);
        break;
      case 'user.revoked':
        for (const [sessionId, session] of this.sessions) {
          if (session.userId !== event.userId) continue;
          if (sessionId === event.exceptSessionId) session.keptThrough = event.revokedBefore;
          else if (revokedByEpoch(session.createdAt, session.keptThrough, event.revokedBefore))
            this.sessions.delete(sessionId);
        }
        break;
      case 'session.updated':
        break;
    }
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
