import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Observable, Subject, filter, take } from 'rxjs';
import { InvalidationSubscriber } from './invalidation-subscriber';
import { createSubscriberConnection } from './subscriber-connection';
import {
  type Invalidation,
  type RevocationNotice,
  formatFlushMessage,
  parseInvalidation,
} from './invalidation-message';
import { SessionCache } from './session-cache';
import type { ResolvedSessionOptions } from './session-options';
import { SessionRefresher, type RefreshRequest } from './session-refresher';
import { SessionStats, type SessionStatsSnapshot } from './session-stats';
import { SESSION_OPTIONS } from './session.constants';
import { SessionStore } from './store/session-store';
import type { Session } from './session.types';
import { revokedByEpoch } from './store/revocation-rule';

const REFRESH_BATCH = 100;
const REFRESH_DELAY_MS = 5;

/**
 * The instance-local side of sessions: the L1 cache, the subscriber that invalidates it, the
 * background refresher that keeps hot entries confirmed and touched, and the revocation stream
 * apps can observe. The cache serves hits only while the subscriber is confirmed subscribed.
 */
@Injectable()
export class LocalSessionCache implements OnModuleInit, OnApplicationShutdown {
  readonly stats = new SessionStats();
  private readonly logger = new Logger('LocalSessionCache');
  private readonly cache: SessionCache;
  private readonly subscriber: InvalidationSubscriber;
  private readonly refresher: SessionRefresher;
  private readonly notices = new Subject<RevocationNotice>();
  /** Redis clock minus local clock, from the latest reply: expiry times are Redis times. */
  private clockOffsetMs = 0;

  /** Every revocation this instance hears of (from any instance), as it arrives. */
  readonly revocations$: Observable<RevocationNotice> = this.notices.asObservable();

  constructor(
    private readonly store: SessionStore,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {
    this.cache = new SessionCache(options.cache, this.stats);
    this.subscriber = new InvalidationSubscriber(
      createSubscriberConnection(store.redis),
      { channel: store.keys.invalidationChannel(), ...options.invalidations },
      {
        message: (raw) => this.onMessage(raw),
        state: (state) => {
          this.stats.subscriberState = state;
          // Whatever was published while we were not subscribed is lost: start afresh.
          if (state === 'subscribed') {
            this.stats.resubscribes++;
            this.cache.clear();
          }
        },
        pingFailure: () => this.stats.pingFailures++,
      },
    );
    this.refresher = new SessionRefresher((batch, startedAt) => this.refresh(batch, startedAt), {
      batchSize: REFRESH_BATCH,
      delayMs: REFRESH_DELAY_MS,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.subscriber.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.refresher.stop();
    await this.subscriber.stop();
    this.notices.complete();
  }

  /** Whether the cache may be used right now. */
  get usable(): boolean {
    return this.options.cache.enabled && this.subscriber.currentState === 'subscribed';
  }

  get subscriberState() {
    return this.subscriber.currentState;
  }

  get redisNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  observeClock(redisNow: number): void {
    this.clockOffsetMs = redisNow - Date.now();
  }

  /** A live cached session for this handle and secret hash, or undefined (then ask Redis). */
  lookup(sessionId: string, partition: number, secretHashHex: string): Session | undefined {
    if (!this.usable) return undefined;
    const entry = this.cache.lookup(sessionId, Buffer.from(secretHashHex, 'hex'));
    if (!entry) return undefined;
    const now = this.redisNow;
    if (now >= entry.session.expiresAt) return undefined;
    const touchDue = now - entry.session.lastAccessedAt >= this.options.touchIntervalMs;
    const ageing = performance.now() - entry.confirmedAt >= this.options.cache.maxStalenessMs / 2;
    if ((touchDue || ageing) && !entry.refreshQueued) {
      entry.refreshQueued = true;
      this.refresher.enqueue({ sessionId, partition, secretHash: secretHashHex });
    }
    return entry.session;
  }

  /** Caches a session Redis just confirmed for a request that started at `startedAt`. */
  remember(session: Session, secretHashHex: string, startedAt: number): void {
    if (this.usable) this.cache.remember(session, Buffer.from(secretHashHex, 'hex'), startedAt);
  }

  /** Local effect of a change made here; other instances hear of it by pub/sub. */
  forgetSession(sessionId: string): void {
    this.cache.forgetSession(sessionId);
  }

  forgetUser(userId: string, revokedBefore: number, exceptSessionId?: string): void {
    this.cache.forgetUser(userId, revokedBefore, exceptSessionId);
  }

  /** Asks every instance to drop its whole cache (e.g. after restoring Redis from a backup). */
  async flushAll(): Promise<void> {
    await this.store.publishInvalidation(formatFlushMessage(this.redisNow));
    this.cache.clear();
  }

  /** Emits once when this session is revoked (by id, by revoke-all or by rotation), then completes. */
  watch(
    session: Pick<Session, 'sessionId' | 'userId' | 'createdAt'>,
  ): Observable<RevocationNotice> {
    return this.revocations$.pipe(
      filter((notice) =>
        notice.kind === 'session'
          ? notice.sessionId === session.sessionId
          : notice.kind === 'user' &&
            notice.userId === session.userId &&
            notice.exceptSessionId !== session.sessionId &&
            // The notice names the one session the epoch keeps: no other is kept through it.
            revokedByEpoch(session.createdAt, null, notice.revokedBefore),
      ),
      take(1),
    );
  }

  snapshot(): SessionStatsSnapshot {
    return this.stats.snapshot({
      enabled: this.options.cache.enabled,
      entries: this.cache.size,
      bytes: this.cache.bytes,
    });
  }

  private onMessage(raw: string): void {
    this.stats.received++;
    const invalidation = parseInvalidation(raw);
    if (!invalidation) {
      this.stats.malformed++;
      return;
    }
    this.stats.recordDelay(this.redisNow - invalidation.at);
    this.apply(invalidation);
    if (invalidation.kind !== 'changed') this.notices.next(invalidation);
  }

  private apply(invalidation: Invalidation): void {
    switch (invalidation.kind) {
      case 'session':
      case 'changed':
        this.cache.forgetSession(invalidation.sessionId);
        break;
      case 'user':
        this.cache.forgetUser(
          invalidation.userId,
          invalidation.revokedBefore,
          invalidation.exceptSessionId,
        );
        break;
      case 'flush':
        this.cache.clear();
        break;
    }
  }

  private async refresh(batch: RefreshRequest[], startedAt: number): Promise<void> {
    await Promise.all(
      batch.map(async ({ sessionId, partition, secretHash }) => {
        try {
          const result = await this.store.validate(sessionId, partition, secretHash);
          if (result.ok) {
            this.observeClock(result.value.redisNow);
            this.remember(result.value.session, secretHash, startedAt);
            this.stats.refreshOk++;
          } else {
            this.cache.forgetSession(sessionId);
            this.stats.refreshDropped++;
          }
        } catch (error) {
          // The entry ages out after maxStaleness; requests then go to Redis themselves.
          this.stats.refreshFailed++;
          this.logger.debug(`Background refresh failed: ${(error as Error).message}`);
        }
      }),
    );
  }
}
