import { revokedByEpoch, type SessionStore, type StoredSessionRow } from '@app/session';
import { PROJECTIONS_GROUP } from '../worker.constants';
import { ProjectionReplay } from './projection-replay';
import { forEachRetainedEvent } from './retained-events';
import { readTail, snapshotStreams, type StreamSnapshot, waitForGroup } from './stream-snapshot';

export interface ProjectionDifference {
  userId: string;
  sessionId: string;
  problem:
    | 'missing-from-user-index'
    | 'unexpected-in-user-index'
    | 'wrong-score'
    | 'missing-from-expiry-index'
    | 'unexpected-in-expiry-index'
    /** The expiry index holds it later than the session can live: the sweep would come late. */
    | 'wrong-expiry-score'
    /** An index entry for a session that is gone and that no due sweep will tidy. */
    | 'dangling-in-user-index'
    | 'dangling-in-expiry-index'
    /** Live by the events, gone from Redis, in no expiry index: its session.expired is lost. */
    | 'expiry-lost';
}

export interface ProjectionCheckReport {
  events: number;
  unreadableEvents: number;
  sessions: number;
  users: number;
  /** Whether the live consumer had applied every event up to the snapshot when compared. */
  workerCaughtUp: boolean;
  /** Sessions an event after the snapshot names: the live consumer's, not compared. */
  changedSinceSnapshot: number;
  /** Gone sessions whose due expiry entry the next sweep ends (with their session.expired). */
  awaitingSweep: number;
  /** Stored, live sessions the retained events do not know (created before the oldest one). */
  olderThanEvents: number;
  differences: ProjectionDifference[];
}

export interface CheckOptions {
  onProgress?: (done: number, total: number) => void;
  /** How long to wait for the live consumer to apply the events up to the snapshot. */
  waitForWorkerMs?: number;
  group?: string;
}

/** Replays the retained events (up to a snapshot when given) in memory. */
export async function replayStreams(
  store: SessionStore,
  onProgress?: (done: number, total: number) => void,
  upTo?: StreamSnapshot,
): Promise<{ replay: ProjectionReplay; unreadable: number }> {
  const replay = new ProjectionReplay();
  const { unreadable } = await forEachRetainedEvent(
    store,
    (event) => replay.apply(event),
    onProgress,
    upTo,
  );
  return { replay, unreadable };
}

/** What one session looks like in the indexes and in Redis. */
interface Observed {
  sessionId: string;
  userId: string;
  userScore?: number;
  expiryScore?: number;
}

/**
 * Compares the live user and expiry indexes with what the retained events up to a snapshot of
 * the stream positions imply, once the live consumer has applied them: sessions an event after
 * the snapshot names are left out (the live consumer's), so a healthy system under traffic
 * reports no difference. Scores are compared (user index: creation time; expiry index: never
 * later than the session can live), and entries of gone sessions are differences unless a due
 * expiry entry hands them to the next sweep.
 */
export async function checkProjections(
  store: SessionStore,
  options: CheckOptions = {},
): Promise<ProjectionCheckReport> {
  const snapshot = await snapshotStreams(store);
  const workerCaughtUp = await waitForGroup(
    store,
    snapshot,
    options.group ?? PROJECTIONS_GROUP,
    options.waitForWorkerMs ?? 30_000,
  );
  const { replay, unreadable } = await replayStreams(store, options.onProgress, snapshot);

  // Every (session, user) pair the events or the indexes name.
  const observed = new Map<string, Observed>();
  const observe = (sessionId: string, userId: string): Observed => {
    const key = `${sessionId}|${userId}`;
    let entry = observed.get(key);
    if (!entry) observed.set(key, (entry = { sessionId, userId }));
    return entry;
  };
  for (const [sessionId, session] of replay.sessions) observe(sessionId, session.userId);
  for (const [userId, index] of await store.allUserIndexes())
    for (const [sessionId, score] of index) observe(sessionId, userId).userScore = score;
  for (let partition = 0; partition < store.keys.partitions; partition++)
    for (const entry of await store.expiryEntries(partition))
      observe(entry.sessionId, entry.userId).expiryScore = entry.expiresAt;

  // What Redis holds of them, one pipeline per user (one slot).
  const byUser = new Map<string, string[]>();
  for (const { sessionId, userId } of observed.values()) {
    const ids = byUser.get(userId) ?? [];
    ids.push(sessionId);
    byUser.set(userId, ids);
  }
  const stored = new Map<string, { row: StoredSessionRow; revokedBefore: number | null }>();
  for (const [userId, ids] of byUser) {
    const { revokedBefore, rows } = await store.userSessionRows(userId, ids);
    for (const row of rows)
      if (row !== null && row.userId === userId)
        stored.set(`${row.sessionId}|${userId}`, { row, revokedBefore });
  }
  const now = await store.redisTime();
  // Read last: whatever the live consumer or the sweep changed meanwhile has its event there.
  const tail = await readTail(store, snapshot);

  let changedSinceSnapshot = 0;
  let awaitingSweep = 0;
  let olderThanEvents = 0;
  const differences: ProjectionDifference[] = [];
  for (const [key, entry] of observed) {
    const { sessionId, userId, userScore, expiryScore } = entry;
    if (tail.sessions.has(sessionId) || tail.revokedUsers.has(userId)) {
      changedSinceSnapshot++;
      continue;
    }
    const problem = (kind: ProjectionDifference['problem']) =>
      differences.push({ userId, sessionId, problem: kind });
    const expected = replay.sessions.get(sessionId);
    const live = expected?.userId === userId ? expected : undefined;
    const held = stored.get(key);
    const realExpiry = held
      ? Math.min(held.row.lastAccessedAt + held.row.idleTtlMs, held.row.absoluteExpiresAt)
      : undefined;
    const alive =
      held !== undefined &&
      realExpiry !== undefined &&
      now < realExpiry &&
      !revokedByEpoch(held.row.createdAt, held.row.keptThrough, held.revokedBefore);

    const ended = replay.ended.get(sessionId) === userId;
    if (alive && held && realExpiry !== undefined) {
      if (ended) {
        // Stored and valid, though an event ended it: the indexes must not list it.
        if (userScore !== undefined) problem('unexpected-in-user-index');
        if (expiryScore !== undefined) problem('unexpected-in-expiry-index');
        continue;
      }
      // Live by the events, or older than the retained events (its created event trimmed): the
      // indexes must hold it as Redis does.
      if (!live) olderThanEvents++;
      if (userScore === undefined) problem('missing-from-user-index');
      else if (userScore !== (live?.createdAt ?? held.row.createdAt)) problem('wrong-score');
      if (expiryScore === undefined) problem('missing-from-expiry-index');
      else if (expiryScore > realExpiry) problem('wrong-expiry-score');
      continue;
    }
    // Gone (or past its expiry): only a due expiry entry may still name it, for the sweep.
    const due = expiryScore !== undefined && expiryScore <= now;
    if (live) {
      if (due) awaitingSweep++;
      else if (expiryScore === undefined) problem('expiry-lost');
      else problem('wrong-expiry-score');
    } else if (ended) {
      if (userScore !== undefined) problem('dangling-in-user-index');
      if (expiryScore !== undefined) problem('dangling-in-expiry-index');
    } else {
      if (due) awaitingSweep++;
      else {
        if (userScore !== undefined) problem('dangling-in-user-index');
        if (expiryScore !== undefined) problem('dangling-in-expiry-index');
      }
    }
  }
  return {
    events: replay.events,
    unreadableEvents: unreadable,
    sessions: replay.sessions.size,
    users: replay.userIndexes().size,
    workerCaughtUp,
    changedSinceSnapshot,
    awaitingSweep,
    olderThanEvents,
    differences,
  };
}
