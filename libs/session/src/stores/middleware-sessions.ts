import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { performance } from 'node:perf_hooks';
import { InvalidUserIdError, SessionNotFoundError } from '../errors';
import { LocalSessionCache } from '../local-session-cache';
import { type DataRules, encodeInitialData, normalizeMeta, serverDataRules } from '../session-data';
import type { ResolvedSessionOptions } from '../session-options';
import { SESSION_OPTIONS } from '../session.constants';
import { SessionService } from '../session.service';
import type { Session, SessionMeta } from '../session.types';
import { SessionStore } from '../store/session-store';
import { hashSecret, newSecret, newSessionId, parseSessionId } from '../token';
import type {
  MiddlewareSessionData,
  ResolvedMiddlewareStoreOptions,
} from './middleware-store-options';
import { changedKeys, jsonValues, toStoredShape } from './stored-shape';

/** What a request read of its session: the base its later write is compared with. */
export interface SessionRead {
  /** '' for an empty guest session that was not stored (see save). */
  sessionId: string;
  /** '' for a guest. */
  userId: string;
  values: Map<string, string>;
}

/** The longest sid accepted (express-session's are 32 characters, @fastify/session's 32). */
const MAX_SID_LENGTH = 256;
const MAX_USER_ID_BYTES = 256;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** A sid pointer outlives its session's absolute expiry by this much (clock differences). */
const POINTER_MARGIN_MS = 60_000;

/**
 * Sessions as the express-session and @fastify/session stores see them: addressed by the
 * middleware's session id (sid), a bearer secret. Redis holds only the sid's SHA-256: as the name
 * of a pointer to the session id, and as the session's secret hash, so a sid is checked exactly as
 * a token's secret is. Everything else is the library's: the same scripts, events, local cache
 * and invalidations, so a revoke-all or a logout elsewhere ends a store session as it ends any.
 */
@Injectable()
export class MiddlewareSessions {
  /** sid digest → session id: immutable but for an owner change, which ends the old session. */
  private readonly pointers: LRUCache<string, string>;
  private readonly rules: DataRules;

  constructor(
    private readonly store: SessionStore,
    private readonly local: LocalSessionCache,
    private readonly sessions: SessionService,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {
    this.pointers = new LRUCache({ max: options.cache.maxEntries });
    this.rules = { ...serverDataRules(options), maxKeys: options.maxDataKeys };
  }

  /** The session a sid stands for, or null (unknown, ended, or not a sid at all). */
  async read(sid: unknown, options: ResolvedMiddlewareStoreOptions): Promise<SessionRead | null> {
    if (!isSid(sid)) return null;
    const digest = hashSecret(sid);
    const found = await this.find(digest);
    if (found.session) return readOf(found.session);
    if (found.pointed || !options.legacy) return null;
    return this.migrate(sid, digest, options.legacy, options);
  }

  /**
   * Writes a request's session: creates it when the sid is new, else writes only the keys this
   * request changed since `read` (nothing when it changed none); a new owner (login without a
   * new sid, logout) moves the data to a new session of that owner. Refusals throw typed errors.
   * Returns what the request now holds (the base of a further write in the same request).
   */
  async write(
    sid: unknown,
    session: object,
    read: SessionRead | undefined,
    options: ResolvedMiddlewareStoreOptions,
    meta: SessionMeta = {},
  ): Promise<SessionRead> {
    if (!isSid(sid)) throw new SessionNotFoundError('Not a session id');
    const shape = toStoredShape(session);
    return this.save(hashSecret(sid), shape, read, options, meta);
  }

  private async save(
    digest: string,
    shape: MiddlewareSessionData,
    read: SessionRead | undefined,
    options: ResolvedMiddlewareStoreOptions,
    meta: SessionMeta,
  ): Promise<SessionRead> {
    const values = jsonValues(shape);
    const userId = this.ownerOf(shape, options);
    let base = read?.sessionId === '' ? undefined : read;
    if (!base) {
      const found = await this.find(digest);
      if (!found.session) {
        // A sid that pointed at a session that has ended is never brought back to life.
        if (found.pointed) throw new SessionNotFoundError('The session has ended');
        // An empty guest session (saveUninitialized, @fastify/session's regenerate) is not worth
        // a write: nothing is lost, the next request simply starts a new one.
        if (userId === '' && isEmpty(values)) return { sessionId: '', userId, values };
        return this.createFor(digest, userId, shape, values, options, meta, 'create');
      }
      base = readOf(found.session);
    }
    if (base.userId !== userId)
      return this.moveTo(digest, base, userId, shape, values, options, meta);
    const patch = changedKeys(base.values, values);
    if (Object.keys(patch).length > 0) await this.sessions.updateServerOwned(base.sessionId, patch);
    return { ...base, values };
  }

  /** Keeps the session alive: no I/O when the local cache holds it (its refresher touches). */
  async touch(sid: unknown, options: ResolvedMiddlewareStoreOptions): Promise<void> {
    if (options.disableTouch || !isSid(sid)) return;
    await this.find(hashSecret(sid));
  }

  /** Ends the session (reason `logout`); the sid stays pointing at it, so it stays dead. */
  async destroy(sid: unknown, options: ResolvedMiddlewareStoreOptions): Promise<void> {
    if (!isSid(sid)) return;
    const digest = hashSecret(sid);
    const sessionId = this.pointers.get(digest) ?? (await this.store.readSidPointer(digest));
    if (sessionId && parseSessionId(sessionId, this.options.streamPartitions) !== null)
      await this.sessions.revoke(sessionId, 'logout');
    if (options.legacy) await this.store.deleteLegacySession(options.legacy.prefix + sid);
  }

  // ── lookup ───────────────────────────────────────────────────────────────────────────────

  /** The live session behind a sid digest, and whether the sid points anywhere at all. */
  private async find(
    digest: string,
    retried = false,
  ): Promise<{ session: Session | null; pointed: boolean }> {
    let sessionId = this.pointers.get(digest);
    const cachedPointer = sessionId !== undefined;
    sessionId ??= (await this.store.readSidPointer(digest)) ?? undefined;
    if (sessionId === undefined) return { session: null, pointed: false };
    const partition = parseSessionId(sessionId, this.options.streamPartitions);
    if (partition === null) return { session: null, pointed: true };
    this.pointers.set(digest, sessionId);
    const session = await this.validate(sessionId, partition, digest);
    // The pointer may have moved (an owner change on another instance): read it again, once.
    if (!session && cachedPointer && !retried) {
      this.pointers.delete(digest);
      return this.find(digest, true);
    }
    return { session, pointed: true };
  }

  private async validate(
    sessionId: string,
    partition: number,
    digest: string,
  ): Promise<Session | null> {
    const cached = this.local.lookup(sessionId, partition, digest);
    if (cached) return cached;
    const startedAt = performance.now();
    const result = await this.store.validate(sessionId, partition, digest);
    if (!result.ok) return null;
    this.local.observeClock(result.value.redisNow);
    this.local.remember(result.value.session, digest, startedAt);
    return result.value.session;
  }

  // ── creation, owner change, migration ────────────────────────────────────────────────────

  private async createFor(
    digest: string,
    userId: string,
    shape: MiddlewareSessionData,
    values: Map<string, string>,
    options: ResolvedMiddlewareStoreOptions,
    meta: SessionMeta,
    pointer: 'create' | 'move',
  ): Promise<SessionRead> {
    const initial = encodeInitialData(shape, this.rules);
    const partition =
      userId === ''
        ? guestPartition(digest, this.options.streamPartitions)
        : this.store.keys.partitionOf(userId);
    const sessionId = newSessionId(partition);
    const create = this.store.create({
      sessionId,
      partition,
      userId,
      secretHash: digest,
      csrfToken: newSecret(),
      dataBytes: initial.bytes,
      dataFields: initial.fields,
      meta: normalizeMeta(meta),
      idleTtlMs: this.idleTtlOf(shape, options),
    });
    const until = this.local.redisNow + this.options.absoluteTtlMs + POINTER_MARGIN_MS;
    if (pointer === 'move') {
      // The new session must exist before the sid points at it.
      if (!(await create).ok) throw new Error(`Session id collision for ${sessionId}`);
      await this.store.writeSidPointer(digest, sessionId, until, 'move');
    } else {
      const [created, pointed] = await Promise.all([
        create,
        this.store.writeSidPointer(digest, sessionId, until, 'create'),
      ]);
      if (!created.ok) throw new Error(`Session id collision for ${sessionId}`);
      if (!pointed) {
        // Another request saved this new sid first: drop ours, write into theirs.
        await this.store.revoke(sessionId, partition, 'duplicate');
        const found = await this.find(digest);
        if (!found.session) throw new SessionNotFoundError('The session has ended');
        return this.save(digest, shape, readOf(found.session), options, meta);
      }
    }
    this.pointers.set(digest, sessionId);
    return { sessionId, userId, values };
  }

  /** A login or logout on the same sid: the data moves to a session of the new owner. */
  private async moveTo(
    digest: string,
    base: SessionRead,
    userId: string,
    shape: MiddlewareSessionData,
    values: Map<string, string>,
    options: ResolvedMiddlewareStoreOptions,
    meta: SessionMeta,
  ): Promise<SessionRead> {
    const moved = await this.createFor(digest, userId, shape, values, options, meta, 'move');
    await this.sessions.revoke(base.sessionId, base.userId === '' ? 'login' : 'logout');
    return moved;
  }

  /** connect-redis's session for this sid, moved over (its key deleted), or null. */
  private async migrate(
    sid: string,
    digest: string,
    legacy: NonNullable<ResolvedMiddlewareStoreOptions['legacy']>,
    options: ResolvedMiddlewareStoreOptions,
  ): Promise<SessionRead | null> {
    const { prefix, serializer } = legacy;
    const raw = await this.store.readLegacySession(prefix + sid);
    if (raw === null) return null;
    const parsed: unknown = await serializer.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    const shape = toStoredShape(parsed);
    const values = jsonValues(shape);
    const read = await this.createFor(
      digest,
      this.ownerOf(shape, options),
      shape,
      values,
      options,
      {},
      'create',
    );
    await this.store.deleteLegacySession(prefix + sid);
    return read;
  }

  // ── rules ────────────────────────────────────────────────────────────────────────────────

  /** The owner as stored: the user id, or '' for a guest. */
  private ownerOf(shape: MiddlewareSessionData, options: ResolvedMiddlewareStoreOptions): string {
    const owner = options.userIdOf(shape);
    if (owner === null || owner === undefined) return '';
    const userId = String(owner);
    if (
      (typeof owner !== 'string' && typeof owner !== 'number') ||
      userId.length === 0 ||
      Buffer.byteLength(userId, 'utf8') > MAX_USER_ID_BYTES ||
      CONTROL_CHARS.test(userId)
    ) {
      throw new InvalidUserIdError(
        `A session's user id must be a non-empty string of at most ${MAX_USER_ID_BYTES} UTF-8 bytes without control characters`,
      );
    }
    return userId;
  }

  /** The idle TTL a new session gets (ms), or undefined for the deployment's. */
  private idleTtlOf(
    shape: MiddlewareSessionData,
    options: ResolvedMiddlewareStoreOptions,
  ): number | undefined {
    const { ttl } = options;
    let ms: number | undefined;
    if (typeof ttl === 'function') ms = ttl(shape) * 1000;
    else if (ttl !== undefined) ms = ttl * 1000;
    else {
      const maxAge = (shape.cookie as { originalMaxAge?: unknown } | undefined)?.originalMaxAge;
      if (typeof maxAge === 'number') ms = maxAge;
    }
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return undefined;
    return Math.min(Math.max(Math.round(ms), 1000), this.options.absoluteTtlMs);
  }
}

/** Nothing but the cookie. */
function isEmpty(values: ReadonlyMap<string, string>): boolean {
  return values.size === 0 || (values.size === 1 && values.has('cookie'));
}

function isSid(sid: unknown): sid is string {
  return typeof sid === 'string' && sid.length > 0 && sid.length <= MAX_SID_LENGTH;
}

/** A guest has no user to choose its partition: the sid's digest spreads guests over all. */
function guestPartition(digest: string, partitions: number): number {
  return Number.parseInt(digest.slice(0, 8), 16) % partitions;
}

function readOf(session: Session): SessionRead {
  return { sessionId: session.sessionId, userId: session.userId, values: jsonValues(session.data) };
}
