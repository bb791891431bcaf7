import type { SessionStore } from '@app/session';
import { ProjectionReplay } from './projection-replay';
import { forEachRetainedEvent } from './retained-events';

export interface ProjectionDifference {
  userId: string;
  sessionId: string;
  problem:
    | 'missing-from-user-index'
    | 'unexpected-in-user-index'
    | 'wrong-score'
    | 'missing-from-expiry-index'
    | 'unexpected-in-expiry-index';
}

export interface ProjectionCheckReport {
  events: number;
  unreadableEvents: number;
  sessions: number;
  users: number;
  /** Differences about sessions already gone from Redis (expired, not yet swept): not errors. */
  ignoredGone: number;
  differences: ProjectionDifference[];
}

/** Replays every retained event in memory (the projections they imply). */
export async function replayStreams(
  store: SessionStore,
  onProgress?: (done: number, total: number) => void,
): Promise<{ replay: ProjectionReplay; unreadable: number }> {
  const replay = new ProjectionReplay();
  const { unreadable } = await forEachRetainedEvent(
    store,
    (event) => replay.apply(event),
    onProgress,
  );
  return { replay, unreadable };
}

/** Compares the live user and expiry indexes with what the retained events imply. */
export async function checkProjections(
  store: SessionStore,
  onProgress?: (done: number, total: number) => void,
): Promise<ProjectionCheckReport> {
  const { replay, unreadable } = await replayStreams(store, onProgress);
  const expected = replay.userIndexes();
  const liveUsers = await store.allUserIndexes();
  const liveExpiry = new Map<string, string>(); // sessionId → userId
  for (let partition = 0; partition < store.keys.partitions; partition++) {
    for (const entry of await store.expiryEntries(partition))
      liveExpiry.set(entry.sessionId, entry.userId);
  }

  const candidates: ProjectionDifference[] = [];
  for (const userId of new Set([...expected.keys(), ...liveUsers.keys()])) {
    const want = expected.get(userId) ?? new Map<string, number>();
    const have = liveUsers.get(userId) ?? new Map<string, number>();
    for (const [sessionId, createdAt] of want) {
      if (!have.has(sessionId))
        candidates.push({ userId, sessionId, problem: 'missing-from-user-index' });
      else if (have.get(sessionId) !== createdAt)
        candidates.push({ userId, sessionId, problem: 'wrong-score' });
      if (liveExpiry.get(sessionId) !== userId)
        candidates.push({ userId, sessionId, problem: 'missing-from-expiry-index' });
    }
    for (const sessionId of have.keys()) {
      if (!want.has(sessionId))
        candidates.push({ userId, sessionId, problem: 'unexpected-in-user-index' });
    }
  }
  for (const [sessionId, userId] of liveExpiry) {
    if (!expected.get(userId)?.has(sessionId))
      candidates.push({ userId, sessionId, problem: 'unexpected-in-expiry-index' });
  }

  // A session that already expired in Redis is dead on both sides; the sweep tidies its entries.
  let ignoredGone = 0;
  const differences: ProjectionDifference[] = [];
  for (const difference of candidates) {
    const partition = store.keys.partitionOf(difference.userId);
    if (!(await store.sessionExists(difference.sessionId, partition))) ignoredGone++;
    else differences.push(difference);
  }
  return {
    events: replay.events,
    unreadableEvents: unreadable,
    sessions: replay.sessions.size,
    users: expected.size,
    ignoredGone,
    differences,
  };
}
