import { Inject, Injectable } from '@nestjs/common';
import { guardStoreCall } from './redis-errors';
import type { ResolvedSessionOptions } from './session-options';
import type { SessionScripts } from './session-scripts';
import { SESSION_OPTIONS } from './session.constants';
import { SessionRepository } from './session.repository';
import type { SessionMeta } from './session.types';
import { parseSessionId } from './token';

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

export type SweepOutcome = 'alive' | 'expired' | 'absent';

const MAX_PAGE = 100;

/**
 * The projections the worker keeps from the event streams — the per-user session index and the
 * per-partition expiry index — and their readers. Every write is an idempotent Lua script, so
 * at-least-once delivery and a rebuild from the stream both converge on the same state.
 */
@Injectable()
export class SessionIndex {
  private readonly scripts: SessionScripts;

  constructor(
    private readonly repository: SessionRepository,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {
    this.scripts = repository.scripts;
  }

  private get keys() {
    return this.repository.keys;
  }

  private partitionOfSession(sessionId: string): number {
    const partition = parseSessionId(sessionId, this.options.streamPartitions);
    if (partition === null) throw new Error(`Not a session id of this deployment: ${sessionId}`);
    return partition;
  }

  /** session.created and session.rotated: index the (new) session if it is still stored. */
  async indexSession(sessionId: string, userId: string, replacedSessionId = ''): Promise<boolean> {
    const partition = this.partitionOfSession(sessionId);
    const [status] = await guardStoreCall(() =>
      this.scripts.indexSession(
        this.keys.session(sessionId, partition),
        this.keys.userSessions(userId),
        this.keys.expiryIndex(partition),
        this.keys.revocationEpochs(partition),
        sessionId,
        userId,
        replacedSessionId,
        this.options.absoluteTtlMs,
      ),
    );
    return status === 'indexed';
  }

  /** session.revoked: drop the session from both indexes. */
  async unindexSession(sessionId: string, userId: string): Promise<void> {
    const partition = this.partitionOfSession(sessionId);
    await guardStoreCall(() =>
      this.scripts.unindexSession(
        this.keys.userSessions(userId),
        this.keys.expiryIndex(partition),
        sessionId,
        userId,
      ),
    );
  }

  /** user.revoked: delete the sessions the epoch revoked (all indexed ones at or before it). */
  async purgeRevokedSessions(
    userId: string,
    revokedBefore: number,
    exceptSessionId?: string,
  ): Promise<number> {
    const partition = this.keys.partitionOf(userId);
    const candidates = await guardStoreCall(() =>
      this.repository.redis.zrangebyscore(this.keys.userSessions(userId), '-inf', revokedBefore),
    );
    let purged = 0;
    for (const sessionId of candidates) {
      if (
        sessionId === exceptSessionId ||
        parseSessionId(sessionId, this.options.streamPartitions) !== partition
      )
        continue;
      const result = await guardStoreCall(() =>
        this.scripts.purgeRevokedSession(
          this.keys.session(sessionId, partition),
          this.keys.userSessions(userId),
          this.keys.expiryIndex(partition),
          this.keys.revocationEpochs(partition),
          sessionId,
          userId,
        ),
      );
      purged += Number(result);
    }
    return purged;
  }

  /**
   * Sweeps up to `limit` entries of one partition whose expected expiry has passed: each is
   * either moved to its real (touched) expiry or ended with a session.expired event.
   */
  async sweepPartition(partition: number, limit: number): Promise<Record<SweepOutcome, number>> {
    const counts: Record<SweepOutcome, number> = { alive: 0, expired: 0, absent: 0 };
    const now = await this.redisTime();
    const due = await guardStoreCall(() =>
      this.repository.redis.zrangebyscore(
        this.keys.expiryIndex(partition),
        '-inf',
        now,
        'LIMIT',
        0,
        limit,
      ),
    );
    for (const member of due) {
      const separator = member.indexOf('|');
      const sessionId = member.slice(0, separator);
      const userId = member.slice(separator + 1);
      const [status] = await guardStoreCall(() =>
        this.scripts.expireSession(
          this.keys.session(sessionId, partition),
          this.keys.userSessions(userId),
          this.keys.expiryIndex(partition),
          this.keys.events(partition),
          sessionId,
          userId,
          this.options.streamRetentionMs,
          this.options.streamMaxLength,
          this.keys.invalidationChannel(),
        ),
      );
      counts[status as SweepOutcome]++;
    }
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
      const [next, count] = await guardStoreCall(() =>
        this.scripts.pruneRevocationEpochs(
          this.keys.revocationEpochs(partition),
          cursor,
          batch,
          this.options.streamRetentionMs,
        ),
      );
      cursor = String(next);
      pruned += Number(count);
    } while (cursor !== '0');
    return pruned;
  }

  /** How overdue the oldest unswept expiry of a partition is (ms; 0 when none is due). */
  async sweepLagMs(partition: number): Promise<number> {
    const [oldest, now] = await Promise.all([
      guardStoreCall(() =>
        this.repository.redis.zrange(this.keys.expiryIndex(partition), 0, 0, 'WITHSCORES'),
      ),
      this.redisTime(),
    ]);
    return oldest.length === 2 ? Math.max(0, now - Number(oldest[1])) : 0;
  }

  /** A user's live sessions, newest first, with device metadata. */
  async listForUser(
    userId: string,
    options: { limit?: number; cursor?: string | null } = {},
  ): Promise<SessionPage> {
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 20)), MAX_PAGE);
    const offset = options.cursor ? Number.parseInt(options.cursor, 10) || 0 : 0;
    const partition = this.keys.partitionOf(userId);
    const ids = await guardStoreCall(() =>
      this.repository.redis.zrevrange(this.keys.userSessions(userId), offset, offset + limit - 1),
    );
    if (ids.length === 0) return { sessions: [], nextCursor: null };
    // One slot (the user's hash tag), so this pipeline also works on a cluster.
    const now = await this.redisTime();
    const pipeline = this.repository.redis.pipeline();
    pipeline.hget(this.keys.revocationEpochs(partition), userId);
    for (const id of ids)
      pipeline.hmget(
        this.keys.session(id, partition),
        'uid',
        'ca',
        'la',
        'it',
        'ax',
        'kt',
        'ua',
        'ip',
        'dev',
      );
    const replies = await guardStoreCall(async () => (await pipeline.exec()) ?? []);
    const epoch = Number(replies[0]?.[1] ?? -1);
    const sessions: SessionSummary[] = [];
    ids.forEach((sessionId, i) => {
      const [uid, ca, la, it, ax, kt, ua, ip, dev] = (replies[i + 1]?.[1] ?? []) as (
        string | null
      )[];
      if (uid !== userId || ca === null || la === null || it === null || ax === null) return;
      const expiresAt = Math.min(Number(la) + Number(it), Number(ax));
      const revoked = Number(ca) <= epoch && Number(kt ?? -1) < epoch;
      if (revoked || now >= expiresAt) return;
      const summary: SessionSummary = {
        sessionId,
        createdAt: Number(ca),
        lastAccessedAt: Number(la),
        expiresAt,
        absoluteExpiresAt: Number(ax),
      };
      if (ua) summary.userAgent = ua;
      if (ip) summary.ip = ip;
      if (dev) summary.deviceLabel = dev;
      sessions.push(summary);
    });
    return { sessions, nextCursor: ids.length === limit ? String(offset + limit) : null };
  }

  private async redisTime(): Promise<number> {
    const [seconds, micros] = await guardStoreCall(() => this.repository.redis.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}
