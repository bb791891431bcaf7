import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Observable } from 'rxjs';
import type { RevocationNotice } from './invalidation-message';
import { LocalSessionCache } from './local-session-cache';
import { SessionIndex, type SessionPage } from './session-index';
import type { SessionStatsSnapshot } from './session-stats';
import {
  InvalidSessionDataError,
  InvalidSessionIdError,
  InvalidTokenError,
  InvalidUserIdError,
  SessionDataTooLargeError,
  SessionDataTooManyKeysError,
  SessionNotFoundError,
} from './errors';
import {
  type DataRules,
  encodeDataPatch,
  encodeInitialData,
  normalizeMeta,
  serverDataRules,
} from './session-data';
import type { ResolvedSessionOptions } from './session-options';
import { SessionStore } from './store/session-store';
import { SESSION_OPTIONS } from './session.constants';
import type {
  CreatedSession,
  InvalidSessionReason,
  RevocationReason,
  RotatedSession,
  Session,
  SessionData,
  SessionMeta,
  ValidationResult,
} from './session.types';
import {
  formatToken,
  hashSecret,
  newSecret,
  newSessionId,
  parseSessionId,
  parseToken,
} from './token';

const MAX_USER_ID_BYTES = 256;
// Control characters would make keys and logs ambiguous.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * The session API apps use. Input is checked here (typed errors, before any Redis call); state
 * changes are single Lua scripts in SessionStore.
 */
@Injectable()
export class SessionService {
  /** What a client-driven `update()` may write: never a server-owned key. */
  private readonly clientRules: DataRules;
  /** What the server writes (`create()`, `updateServerOwned()`): server-owned keys too. */
  private readonly serverRules: DataRules;

  constructor(
    private readonly store: SessionStore,
    private readonly local: LocalSessionCache,
    private readonly index: SessionIndex,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {
    this.serverRules = serverDataRules(options);
    this.clientRules = { ...this.serverRules, serverOwned: options.serverOwnedDataKeys };
  }

  /** Key naming of this deployment (for the worker and for tests). */
  get keys() {
    return this.store.keys;
  }

  /** Every revocation this instance hears of, from any instance (e.g. to close a WebSocket). */
  get revocations$(): Observable<RevocationNotice> {
    return this.local.revocations$;
  }

  /** Emits once when the given session is revoked anywhere, then completes. */
  watch(
    session: Pick<Session, 'sessionId' | 'userId' | 'createdAt'>,
  ): Observable<RevocationNotice> {
    return this.local.watch(session);
  }

  /** Cache and subscriber counters for metrics. */
  stats(): SessionStatsSnapshot {
    return this.local.snapshot();
  }

  /** Whether the invalidation subscriber is connected and subscribed (for health checks). */
  get invalidationsConnected(): boolean {
    return this.local.subscriberState === 'subscribed';
  }

  /** Drops the local caches of every instance. */
  flushAllCaches(): Promise<void> {
    return this.local.flushAll();
  }

  async create(
    userId: string,
    data: SessionData = {},
    meta: SessionMeta = {},
  ): Promise<CreatedSession> {
    this.checkUserId(userId);
    const initial = encodeInitialData(data, {
      ...this.serverRules,
      maxKeys: this.options.maxDataKeys,
    });
    const partition = this.store.keys.partitionOf(userId);
    const secret = newSecret();
    const sessionId = newSessionId(partition);
    const csrfToken = newSecret();
    const result = await this.store.create({
      sessionId,
      partition,
      userId,
      secretHash: hashSecret(secret),
      csrfToken,
      dataBytes: initial.bytes,
      dataFields: initial.fields,
      meta: normalizeMeta(meta),
    });
    // 'exists' would need a uuid v4 collision; failing loudly beats overwriting a session.
    if (!result.ok) throw new Error(`Session id collision for ${sessionId}`);
    const { createdAt, expiresAt, absoluteExpiresAt } = result.value;
    return {
      sessionId,
      token: formatToken(sessionId, secret),
      csrfToken,
      createdAt,
      expiresAt,
      absoluteExpiresAt,
    };
  }

  /**
   * Validates a token and says why it was refused: from the local cache when it holds a fresh
   * entry (no round trip), else with one Redis round trip (none at all for a malformed token).
   */
  async verify(token: unknown): Promise<ValidationResult> {
    return this.verifyLocally(token) ?? this.verifyInRedis(token);
  }

  /**
   * The answer verify() gives without I/O, when there is one: a malformed token, or a fresh entry
   * of the local cache. Undefined when Redis must be asked. For callers on the hot path (the
   * guard): no promise at all on a cache hit.
   */
  verifyLocally(token: unknown): ValidationResult | undefined {
    const parsed = parseToken(token, this.options.streamPartitions);
    if (!parsed) return { valid: false, reason: 'malformed' };
    const cached = this.local.lookup(parsed.sessionId, parsed.partition, hashSecret(parsed.secret));
    return cached ? { valid: true, session: cached } : undefined;
  }

  private async verifyInRedis(token: unknown): Promise<ValidationResult> {
    const parsed = parseToken(token, this.options.streamPartitions);
    if (!parsed) return { valid: false, reason: 'malformed' };
    const secretHash = hashSecret(parsed.secret);
    const startedAt = performance.now();
    const result = await this.store.validate(parsed.sessionId, parsed.partition, secretHash);
    if (!result.ok) return { valid: false, reason: result.reason as InvalidSessionReason };
    this.local.observeClock(result.value.redisNow);
    this.local.remember(result.value.session, secretHash, startedAt);
    return { valid: true, session: result.value.session };
  }

  /** The session for a token, or null when it is not (or no longer) valid. */
  async validate(token: unknown): Promise<Session | null> {
    const result = await this.verify(token);
    return result.valid ? result.session : null;
  }

  /**
   * Merges a patch into the session's data (null removes a key); returns the merged data. For data
   * a client may change: a server-owned key (`roles` by default) is refused.
   */
  update(sessionId: string, patch: SessionData): Promise<SessionData> {
    return this.applyPatch(sessionId, patch, this.clientRules);
  }

  /**
   * Like `update()`, for the server alone: may also set server-owned keys (e.g. roles after a
   * promotion). Never pass it data a client sent.
   */
  updateServerOwned(sessionId: string, patch: SessionData): Promise<SessionData> {
    return this.applyPatch(sessionId, patch, this.serverRules);
  }

  private async applyPatch(
    sessionId: string,
    patch: SessionData,
    rules: DataRules,
  ): Promise<SessionData> {
    const partition = this.checkSessionId(sessionId);
    const encoded = encodeDataPatch(patch, rules);
    if (encoded.fields.length === 0)
      throw new InvalidSessionDataError('A patch needs at least one key');
    const result = await this.store.update(sessionId, partition, encoded.fields);
    // A patch that changed nothing published no invalidation: the cached entry is still right.
    if (!result.ok || result.value.changed) this.local.forgetSession(sessionId);
    if (result.ok) return result.value.data;
    if (result.reason === 'too_large')
      throw new SessionDataTooLargeError(result.detail ?? 0, this.options.maxDataBytes);
    if (result.reason === 'too_many_keys')
      throw new SessionDataTooManyKeysError(result.detail ?? 0, this.options.maxDataKeys);
    throw new SessionNotFoundError(`Session ${sessionId} is not live (${result.reason})`);
  }

  /** Issues a new id, secret and CSRF token for the same session; the old token dies at once. */
  async rotate(token: string): Promise<RotatedSession> {
    const parsed = parseToken(token, this.options.streamPartitions);
    if (!parsed) throw new InvalidTokenError('Malformed session token');
    const secret = newSecret();
    const csrfToken = newSecret();
    const sessionId = newSessionId(parsed.partition);
    const result = await this.store.rotate({
      sessionId: parsed.sessionId,
      newSessionId: sessionId,
      partition: parsed.partition,
      secretHash: hashSecret(parsed.secret),
      newSecretHash: hashSecret(secret),
      newCsrfToken: csrfToken,
    });
    this.local.forgetSession(parsed.sessionId);
    if (!result.ok) throw new SessionNotFoundError(`Session cannot be rotated (${result.reason})`);
    const { createdAt, expiresAt, absoluteExpiresAt } = result.value;
    return {
      sessionId,
      previousSessionId: parsed.sessionId,
      token: formatToken(sessionId, secret),
      csrfToken,
      createdAt,
      expiresAt,
      absoluteExpiresAt,
    };
  }

  /**
   * Revokes one session. With `userId`, only a session of that user is revoked (so a caller can
   * never learn about or touch someone else's). Returns false when there was nothing to revoke.
   */
  async revoke(
    sessionId: string,
    reason: RevocationReason = 'revoked',
    options: { userId?: string } = {},
  ): Promise<boolean> {
    const partition = this.checkSessionId(sessionId);
    if (options.userId !== undefined) this.checkUserId(options.userId);
    const owner = await this.store.revoke(sessionId, partition, reason, options.userId ?? '');
    if (owner !== null) this.local.forgetSession(sessionId);
    return owner !== null;
  }

  /**
   * Revokes every session of the user in O(1): once this returns, Redis rejects them all, even
   * one created a moment ago on another instance. Returns how many indexed live sessions it ended.
   */
  async revokeAllForUser(userId: string): Promise<number> {
    this.checkUserId(userId);
    const count = await this.store.countLiveIndexed(userId);
    this.local.forgetUser(userId, await this.store.revokeUser(userId));
    return count;
  }

  /** Revokes every session of the user except `keepSessionId` (which must be theirs and live). */
  async revokeOthers(userId: string, keepSessionId: string): Promise<number> {
    this.checkUserId(userId);
    const partition = this.checkSessionId(keepSessionId);
    const count = await this.store.countLiveIndexed(userId, keepSessionId);
    const result = await this.store.revokeOthers(userId, keepSessionId, partition);
    if (!result.ok)
      throw new SessionNotFoundError(`Session ${keepSessionId} is not a live session of this user`);
    this.local.forgetUser(userId, result.value, keepSessionId);
    return count;
  }

  /**
   * A user's live sessions (device list), newest first, paginated. Read from the index the worker
   * keeps, so a session created a few milliseconds ago may not be listed yet.
   */
  async listForUser(
    userId: string,
    options: { limit?: number; cursor?: string | null } = {},
  ): Promise<SessionPage> {
    this.checkUserId(userId);
    return this.index.listForUser(userId, options);
  }

  /** The seed's name for `validate`. */
  get(token: unknown): Promise<Session | null> {
    return this.validate(token);
  }

  /** The seed's name for logging out: accepts a session id or a whole token. */
  async destroy(sessionIdOrToken: string): Promise<boolean> {
    const parsed = parseToken(sessionIdOrToken, this.options.streamPartitions);
    if (parsed) {
      const session = await this.validate(sessionIdOrToken);
      return session ? this.revoke(session.sessionId, 'logout') : false;
    }
    return this.revoke(sessionIdOrToken, 'logout');
  }

  /** The seed's name for `revokeAllForUser`. */
  destroyAllForUser(userId: string): Promise<number> {
    return this.revokeAllForUser(userId);
  }

  private checkUserId(userId: unknown): asserts userId is string {
    if (
      typeof userId !== 'string' ||
      userId.length === 0 ||
      Buffer.byteLength(userId, 'utf8') > MAX_USER_ID_BYTES ||
      CONTROL_CHARS.test(userId)
    ) {
      throw new InvalidUserIdError(
        `A user id must be a non-empty string of at most ${MAX_USER_ID_BYTES} UTF-8 bytes without control characters`,
      );
    }
  }

  private checkSessionId(sessionId: unknown): number {
    const partition = parseSessionId(sessionId, this.options.streamPartitions);
    if (partition === null) throw new InvalidSessionIdError('Malformed session id');
    return partition;
  }
}
