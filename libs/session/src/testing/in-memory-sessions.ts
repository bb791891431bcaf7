import { Inject, Injectable } from '@nestjs/common';
import { filter, type Observable, Subject, take } from 'rxjs';
import type { ResolvedSessionOptions } from '../session-options';
import { SESSION_OPTIONS } from '../session.constants';
import type {
  CreatedSession,
  RevocationReason,
  Session,
  SessionData,
  SessionMeta,
  ValidationResult,
} from '../session.types';
import type { RevocationNotice } from '../invalidation-message';
import { formatToken, newSecret, newSessionId, parseToken } from '../token';

/**
 * FOR UNIT TESTS ONLY: the part of SessionService a guarded controller meets (create, verify,
 * update, revoke, revokeAllForUser, watch, revocations$), kept in a Map of this process. No Redis, no event, no other instance, no
 * data rules (sizes, forbidden keys, server-owned keys): what makes the library safe is not
 * here. `SessionTestingModule.withoutRedis()` provides it as SessionService, so the real
 * SessionGuard, `@Roles()`, `@CurrentUser()` and the cookie/CSRF checks run against it. Any
 * other SessionService method throws: test that code with `SessionTestingModule.forRoot()`.
 */
@Injectable()
export class InMemorySessions {
  private readonly sessions = new Map<string, { secret: string; session: Session }>();

  constructor(@Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  private readonly notices = new Subject<RevocationNotice>();

  /** The revocations made through this object (there is no other instance). */
  get revocations$(): Observable<RevocationNotice> {
    return this.notices.asObservable();
  }

  /** Emits once when the session is revoked (by id or by a revoke-all), then completes. */
  watch(
    session: Pick<Session, 'sessionId' | 'userId' | 'createdAt'>,
  ): Observable<RevocationNotice> {
    return this.notices.pipe(
      filter((notice) =>
        notice.kind === 'session'
          ? notice.sessionId === session.sessionId
          : notice.kind === 'user' &&
            notice.userId === session.userId &&
            session.createdAt <= notice.revokedBefore,
      ),
      take(1),
    );
  }

  async create(
    userId: string,
    data: SessionData = {},
    meta: SessionMeta = {},
  ): Promise<CreatedSession> {
    const sessionId = newSessionId(0);
    const secret = newSecret();
    const now = Date.now();
    const absoluteExpiresAt = now + this.options.absoluteTtlMs;
    const session: Session = {
      ...meta,
      sessionId,
      userId,
      data: structuredClone(data),
      csrfToken: newSecret(),
      createdAt: now,
      lastAccessedAt: now,
      expiresAt: Math.min(now + this.options.idleTtlMs, absoluteExpiresAt),
      absoluteExpiresAt,
    };
    this.sessions.set(sessionId, { secret, session });
    const { csrfToken, createdAt, expiresAt } = session;
    return {
      sessionId,
      token: formatToken(sessionId, secret),
      csrfToken,
      createdAt,
      expiresAt,
      absoluteExpiresAt,
    };
  }

  verifyLocally(token: unknown): ValidationResult {
    const parsed = parseToken(token, this.options.streamPartitions);
    if (!parsed) return { valid: false, reason: 'malformed' };
    const held = this.sessions.get(parsed.sessionId);
    if (!held) return { valid: false, reason: 'unknown' };
    if (held.secret !== parsed.secret) return { valid: false, reason: 'bad_secret' };
    const now = Date.now();
    if (now >= held.session.absoluteExpiresAt) return { valid: false, reason: 'absolute_expired' };
    if (now >= held.session.expiresAt) return { valid: false, reason: 'idle_expired' };
    held.session.lastAccessedAt = now;
    held.session.expiresAt = Math.min(now + this.options.idleTtlMs, held.session.absoluteExpiresAt);
    return { valid: true, session: structuredClone(held.session) };
  }

  async verify(token: unknown): Promise<ValidationResult> {
    return this.verifyLocally(token);
  }

  async validate(token: unknown): Promise<Session | null> {
    const result = this.verifyLocally(token);
    return result.valid ? result.session : null;
  }

  get(token: unknown): Promise<Session | null> {
    return this.validate(token);
  }

  /** Merges a top-level patch (a null value deletes the key); returns the session's data. */
  async update(sessionId: string, patch: SessionData): Promise<SessionData> {
    const held = this.sessions.get(sessionId);
    if (!held) throw new Error(`InMemorySessions: no session ${sessionId}`);
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete held.session.data[key];
      else held.session.data[key] = structuredClone(value);
    }
    return structuredClone(held.session.data);
  }

  updateServerOwned(sessionId: string, patch: SessionData): Promise<SessionData> {
    return this.update(sessionId, patch);
  }

  async revoke(
    sessionId: string,
    reason: RevocationReason = 'revoked',
    options: { userId?: string } = {},
  ): Promise<boolean> {
    const held = this.sessions.get(sessionId);
    if (!held || (options.userId !== undefined && held.session.userId !== options.userId))
      return false;
    this.sessions.delete(sessionId);
    const { userId } = held.session;
    this.notices.next({ kind: 'session', sessionId, userId, reason, at: Date.now() });
    return true;
  }

  async revokeAllForUser(userId: string): Promise<number> {
    let count = 0;
    for (const [sessionId, held] of this.sessions) {
      if (held.session.userId === userId) count += Number(this.sessions.delete(sessionId));
    }
    const now = Date.now();
    this.notices.next({ kind: 'user', userId, revokedBefore: now, at: now });
    return count;
  }

  async destroy(sessionIdOrToken: string): Promise<boolean> {
    const parsed = parseToken(sessionIdOrToken, this.options.streamPartitions);
    return this.revoke(parsed ? parsed.sessionId : sessionIdOrToken, 'logout');
  }

  destroyAllForUser(userId: string): Promise<number> {
    return this.revokeAllForUser(userId);
  }
}
