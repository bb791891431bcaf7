import type { SessionStore } from '@app/session';
import type { SessionLimitService } from '../projections/session-limit.service';
import { replayStreams } from './projection-check';
import { extendTail, readTail, snapshotStreams } from './stream-snapshot';

export interface RebuildReport {
  /** Events replayed (up to the snapshot). */
  events: number;
  unreadableEvents: number;
  /** Sessions (re)indexed with their scores: live by the events and still stored. */
  indexed: number;
  /** Sessions gone from Redis without their session.expired: ended now by the sweep script. */
  expired: number;
  /** Index entries of sessions whose end is already recorded (or never was a session). */
  dropped: number;
  /** Stored sessions a revoke-all epoch covers, deleted (as the revoke-all clean-up would). */
  purged: number;
  /** Sessions an event after the snapshot names: left to the live consumer. */
  changing: number;
  /** Sessions revoked to bring users back within SESSION_MAX_PER_USER. */
  revokedOverLimit: number;
  users: number;
}

const CONCURRENCY = 32;
/** The tail is read on every so many batches, so the scripts scan few entries after it. */
const TAIL_REFRESH_BATCHES = 20;

/**
 * Rebuilds the projections while traffic flows, without wiping anything: the retained events up to
 * a snapshot of the stream positions are replayed in memory, then every session they or the
 * indexes name is settled with idempotent scripts that check Redis at the moment they run, so the
 * live consumer (which applies the events after the snapshot) and the rebuild never undo each
 * other, and device lists stay complete throughout:
 * - live by the events and stored: indexed (indexSession: both indexes, scores from the session);
 * - gone without an end event: ended by the sweep path (session.expired and the invalidation);
 * - ended by an event: its leftover entries dropped (reconcileGoneSession-4.lua);
 * - then each user's session limit is enforced again (the limit's own revoke: events included).
 */
export async function reconcileProjections(
  store: SessionStore,
  limits: SessionLimitService,
  onProgress?: (done: number, total: number) => void,
): Promise<RebuildReport> {
  const snapshot = await snapshotStreams(store);
  const { replay, unreadable } = await replayStreams(store, onProgress, snapshot);

  const pairs = new Map<string, { sessionId: string; userId: string }>();
  const add = (sessionId: string, userId: string) =>
    pairs.set(`${sessionId}|${userId}`, { sessionId, userId });
  for (const [sessionId, session] of replay.sessions) add(sessionId, session.userId);
  const indexes = await store.allUserIndexes();
  for (const [userId, index] of indexes)
    for (const sessionId of index.keys()) add(sessionId, userId);
  for (let partition = 0; partition < store.keys.partitions; partition++)
    for (const entry of await store.expiryEntries(partition)) add(entry.sessionId, entry.userId);

  // Events since the snapshot: their sessions are the live consumer's. The scripts look again at
  // what is appended after this read, atomically with their decision.
  const tail = await readTail(store, snapshot);
  const report: RebuildReport = {
    events: replay.events,
    unreadableEvents: unreadable,
    indexed: 0,
    expired: 0,
    dropped: 0,
    purged: 0,
    changing: 0,
    revokedOverLimit: 0,
    users: 0,
  };

  const settle = async ({ sessionId, userId }: { sessionId: string; userId: string }) => {
    if (tail.sessions.has(sessionId) || tail.revokedUsers.has(userId)) {
      report.changing++;
      return;
    }
    const partition = store.keys.partitionOf(userId);
    const replayed =
      replay.sessions.get(sessionId)?.userId === userId
        ? 'live'
        : replay.ended.get(sessionId) === userId
          ? 'ended'
          : 'unknown';
    if (replayed === 'live' && (await store.indexSession(sessionId, partition, userId))) {
      report.indexed++;
      return;
    }
    const after = tail.readUpTo.get(store.keys.events(partition)) ?? '0-0';
    const status = await store.reconcileGoneSession(sessionId, partition, userId, after, replayed);
    if (status === 'changing') report.changing++;
    else if (status === 'dropped') report.dropped++;
    else if (status === 'due') {
      if ((await store.expireSession(partition, { sessionId, userId })) === 'expired')
        report.expired++;
    } else if (replayed === 'ended') {
      // Stored though an event ended it: only a revoke-all epoch does that (purge pending).
      if (await store.purgeRevokedSession(sessionId, partition, userId)) report.purged++;
    } else if (await store.indexSession(sessionId, partition, userId)) {
      // Stored and live, but its created event is no longer retained (or was just written).
      report.indexed++;
    }
  };
  const all = [...pairs.values()];
  for (let i = 0; i < all.length; i += CONCURRENCY) {
    await Promise.all(all.slice(i, i + CONCURRENCY).map(settle));
    if ((i / CONCURRENCY) % TAIL_REFRESH_BATCHES === TAIL_REFRESH_BATCHES - 1)
      await extendTail(store, tail);
  }

  const users = new Set([...indexes.keys(), ...[...pairs.values()].map((pair) => pair.userId)]);
  report.users = users.size;
  for (const userId of users) report.revokedOverLimit += await limits.enforce(userId);
  return report;
}
