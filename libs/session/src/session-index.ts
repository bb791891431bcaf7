import { Inject, Injectable } from '@nestjs/common';
import { UnsupportedEventError } from './errors';
import type { ResolvedSessionOptions } from './session-options';
import { SESSION_OPTIONS } from './session.constants';
import type { SessionMeta } from './session.types';
import { revokedByEpoch } from './store/revocation-rule';
import { SessionStore } from './store/session-store';
import type { SweepOutcome } from './store/session-store.types';
import { parseSessionId } from './token';

export type { SweepOutcome } from './store/session-store.types';

/** One entry of a user's device list. */
export interface SessionSummary extends SessionMeta {
  sessionId: string;
  createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

export interface SessionPage {
  sessions: SessionSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const MAX_PAGE = 100;

/**
 * The projections the worker keeps from the event streams — the per-user session index and the
 * per-partition expiry index — and their readers. Every write is an idempotent Lua script, so
 * at-least-once delivery and a rebuild from the stream both converge on the same state.
 */
@Injectable()
export class SessionIndex {
  constructor(
    private readonly store: SessionStore,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  private partitionOfSession(sessionId: string): number {
    const partition = parseSessionId(sessionId, this.options.streamPartitions);
    // The same answer on every try: the worker dead-letters such an event at once.
    if (partition === null)
      throw new UnsupportedEventError(`Not a session id of this deployment: ${sessionId}`);
    return partition;
  }

  /** session.created and session.rotated: index the (new) session if it is still stored. */
  async indexSession(sessionId: string, userId: string, replacedSessionId = ''): Promise<boolean> {
    const partition = this.partitionOfSession(sessionId);
    return this.store.indexSession(sessionId, partition, userId, replacedSessionId);
  }

  /** session.revoked: drop the session from both indexes. */
  async unindexSession(sessionId: string, userId: string): Promise<void> {
    await this.store.unindexSession(sessionId, this.partitionOfSession(sessionId), userId);
  }

  /** user.revoked: delete the sessions the epoch revoked (all indexed ones at or before it). */
  async purgeRevokedSessions(
    userId: string,
    revokedBefore: number,
    exceptSessionId?: string,
  ): Promise<number> {
    const partition = this.store.keys.partitionOf(userId);
    let purged = 0;
    for (const sessionId of await this.store.indexedUpTo(userId, revokedBefore)) {
      if (
        sessionId === exceptSessionId ||
        parseSessionId(sessionId, this.options.streamPartitions) !== partition
      )
        continue;
      if (await this.store.purgeRevokedSession(sessionId, partition, userId)) purged++;
    }
    return purged;
  }

  /**
   * Sweeps up to `limit` entries of one partition whose expected expiry has passed: each is
   * either moved to its real (touched) expiry or ended with a session.expired event.
   */
  async sweepPartition(partition: number, limit: number): Promise<Record<SweepOutcome, number>> {
    const counts: Record<SweepOutcome, number> = { alive: 0, expired: 0, absent: 0 };
    const now = await this.store.redisTime();
    for (const due of await this.store.dueExpiries(partition, now, limit))
      counts[await this.store.expireSession(partition, due)]++;
    return counts;
  }

  /**
   * Drops the partition's revoke-all epochs older than the stream retention (which is at least the
   * absolute session age): every session such an epoch covers has expired. Returns how many.
   */
  async pruneRevocationEpochs(partition: number, batch = 500): Promise<number> {
    let cursor = '0';
    let pruned = 0;
    do {
      const step = await this.store.pruneRevocationEpochs(partition, cursor, batch);
      cursor = step.cursor;
      pruned += step.pruned;
    } while (cursor !== '0');
    return pruned;
  }

  /** How overdue the oldest unswept expiry of a partition is (ms; 0 when none is due). */
  async sweepLagMs(partition: number): Promise<number> {
    const [earliest, now] = await Promise.all([
      this.store.earliestExpiry(partition),
      this.store.redisTime(),
    ]);
    return earliest === null ? 0 : Math.max(0, now - earliest);
  }

  /** A user's live sessions, newest first, with device metadata. */
  async listForUser(
    userId: string,
    options: { limit?: number; cursor?: string | null } = {},
  ): Promise<SessionPage> {
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 20)), MAX_PAGE);
    const offset = options.cursor ? Number.parseInt(options.cursor, 10) || 0 : 0;
    const ids = await this.store.userSessionIds(userId, offset, limit);
    if (ids.length === 0) return { sessions: [], nextCursor: null };
    const now = await this.store.redisTime();
    const { revokedBefore, rows } = await this.store.userSessionRows(userId, ids);
    const sessions: SessionSummary[] = [];
    for (const row of rows) {
      if (row === null || row.userId !== userId) continue;
      const expiresAt = Math.min(row.lastAccessedAt + row.idleTtlMs, row.absoluteExpiresAt);
      if (revokedByEpoch(row.createdAt, row.keptThrough, revokedBefore) || now >= expiresAt)
        continue;
      const summary: SessionSummary = {
        sessionId: row.sessionId,
        createdAt: row.createdAt,
        lastAccessedAt: row.lastAccessedAt,
        expiresAt,
        absoluteExpiresAt: row.absoluteExpiresAt,
      };
      if (row.userAgent) summary.userAgent = row.userAgent;
      if (row.ip) summary.ip = row.ip;
      if (row.deviceLabel) summary.deviceLabel = row.deviceLabel;
      sessions.push(summary);
    }
    return { sessions, nextCursor: ids.length === limit ? String(offset + limit) : null };
  }
}
