import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type { SessionStats } from './session-stats';
import type { Session } from './session.types';
import { revokedByEpoch } from './store/revocation-rule';

export interface SessionCacheOptions {
  maxEntries: number;
  maxBytes: number;
  maxStalenessMs: number;
}

export interface CachedSession {
  session: Readonly<Session>;
  /** SHA-256 of the secret; the presented secret is compared with it on every hit. */
  secretHash: Buffer;
  /** performance.now() when Redis last confirmed the session. */
  confirmedAt: number;
  refreshQueued: boolean;
}

const ENTRY_OVERHEAD_BYTES = 400;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The in-memory (L1) cache of sessions Redis has confirmed, bounded by entries and bytes.
 *
 * It also remembers what was invalidated recently (tombstones): a Redis answer that was in flight
 * when an invalidation arrived must not be cached, or a revoked session would come back.
 */
export class SessionCache {
  private readonly entries: LRUCache<string, CachedSession>;
  private readonly byUser = new Map<string, Set<string>>();
  private readonly tombstones: LRUCache<string, number>;
  private flushedAt = performance.now();

  constructor(
    readonly options: SessionCacheOptions,
    private readonly stats: SessionStats,
  ) {
    this.entries = new LRUCache<string, CachedSession>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry) =>
        ENTRY_OVERHEAD_BYTES + JSON.stringify(entry.session.data).length * 2,
      dispose: (entry, sessionId, reason) => {
        if (reason === 'evict') this.stats.evictions++;
        const ids = this.byUser.get(entry.session.userId);
        ids?.delete(sessionId);
        if (ids?.size === 0) this.byUser.delete(entry.session.userId);
      },
    });
    // Longer than any Redis round trip can take; bounded so it never grows without limit.
    this.tombstones = new LRUCache<string, number>({
      max: 100_000,
      ttl: Math.max(10_000, options.maxStalenessMs * 2),
    });
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.calculatedSize;
  }

  /** A fresh entry whose secret hash matches, or undefined. Counts hits and misses. */
  lookup(sessionId: string, secretHash: Buffer): CachedSession | undefined {
    const entry = this.entries.get(sessionId);
    if (
      !entry ||
      performance.now() - entry.confirmedAt >= this.options.maxStalenessMs ||
      !timingSafeEqual(entry.secretHash, secretHash)
    ) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return entry;
  }

  /**
   * Caches what Redis confirmed for a request that started at `startedAt` (performance.now()),
   * unless an invalidation of that session or user, or a flush, arrived in between.
   */
  remember(session: Session, secretHash: Buffer, startedAt: number): void {
    if (this.flushedAt >= startedAt) return;
    const invalidated = Math.max(
      this.tombstones.get(session.sessionId) ?? -1,
      this.tombstones.get(`u:${session.userId}`) ?? -1,
    );
    if (invalidated >= startedAt) return;
    this.entries.set(session.sessionId, {
      session: deepFreeze(session),
      secretHash,
      confirmedAt: performance.now(),
      refreshQueued: false,
    });
    let ids = this.byUser.get(session.userId);
    if (!ids) this.byUser.set(session.userId, (ids = new Set()));
    ids.add(session.sessionId);
  }

  /** Replaces an entry after a background refresh, under the same tombstone rule. */
  refreshed(session: Session, secretHash: Buffer, startedAt: number): void {
    this.remember(session, secretHash, startedAt);
  }

  forgetSession(sessionId: string): void {
    this.tombstones.set(sessionId, performance.now());
    this.entries.delete(sessionId);
  }

  /** Drops the user's sessions created at or before `revokedBefore` (Redis time), but `except`. */
  forgetUser(userId: string, revokedBefore: number, exceptSessionId?: string): void {
    this.tombstones.set(`u:${userId}`, performance.now());
    for (const sessionId of [...(this.byUser.get(userId) ?? [])]) {
      const entry = this.entries.peek(sessionId);
      // Only `except` is kept through this epoch (the cache does not need older keeps: a session
      // dropped here that Redis still accepts is simply read again).
      if (
        sessionId !== exceptSessionId &&
        entry &&
        revokedByEpoch(entry.session.createdAt, null, revokedBefore)
      )
        this.entries.delete(sessionId);
    }
  }

  clear(): void {
    this.flushedAt = performance.now();
    this.entries.clear();
  }
}
