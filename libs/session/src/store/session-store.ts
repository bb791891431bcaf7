import type { Cluster, Redis } from 'ioredis';
import { DeploymentMismatchError } from '../errors';
import { guardStoreCall, toStoreError } from '../redis-errors';
import { decodeData } from '../session-data';
import type { ResolvedSessionOptions } from '../session-options';
import type { Session, SessionData } from '../session.types';
import {
  DEPLOYMENT_SETTING_NAMES,
  type DeploymentSettingName,
  deploymentSettingsOf,
  FIXED_DEPLOYMENT_SETTINGS,
} from './deployment-settings';
import { type ExpiryMember, expiryMember, parseExpiryMember } from './expiry-member';
import { revokedByEpoch } from './revocation-rule';
import { metaFields, outcome, timeReplyMs } from './script-replies';
import { SESSION_FIELD as F } from './session-fields';
import {
  NEWEST_SESSION_FORMAT,
  type SessionFormat,
  storedDigest,
  toSessionFormat,
} from './session-format';
import { SessionKeys } from './session-keys';
import { flatToRecord, recordToSession } from './session-record';
import { defineSessionScripts, refusableScripts, type SessionScripts } from './session-scripts';
import type {
  CounterLimit,
  NewSessionRecord,
  Reservation,
  ScriptOutcome,
  SessionTimes,
  StoredEventEntry,
  StoredSessionRow,
  SweepOutcome,
  UserSessionRows,
} from './session-store.types';

/** The fields a device list or a projection reads of a session, in reply order. */
const ROW_FIELDS = [
  F.userId,
  F.createdAt,
  F.lastAccessedAt,
  F.idleTtlMs,
  F.absoluteExpiresAt,
  F.keptThrough,
  F.userAgent,
  F.ip,
  F.deviceLabel,
] as const;

function toRow(sessionId: string, values: (string | null)[]): StoredSessionRow | null {
  const [uid, ca, la, it, ax, kt, ua, ip, dev] = values;
  if (uid === null || ca === null || la === null || it === null || ax === null) return null;
  const row: StoredSessionRow = {
    sessionId,
    userId: uid,
    createdAt: Number(ca),
    lastAccessedAt: Number(la),
    idleTtlMs: Number(it),
    absoluteExpiresAt: Number(ax),
    keptThrough: kt === null ? null : Number(kt),
  };
  if (ua) row.userAgent = ua;
  if (ip) row.ip = ip;
  if (dev) row.deviceLabel = dev;
  return row;
}

/**
 * The one code that knows how sessions live in Redis (in the manner of BullMQ's Scripts class):
 * key names (SessionKeys), hash fields (SESSION_FIELD), script names, argument order and reply
 * shapes. Every write is one Lua script that changes the state and appends its event. Everything
 * else — the service, the index, the cache, the worker, the api's rate limits, the rebuild — asks
 * this class, with typed arguments and typed replies.
 */
export class SessionStore {
  readonly keys: SessionKeys;
  /** The Lua scripts, refused once this process is found configured unlike its deployment. */
  private readonly scripts: SessionScripts;
  /** Why script calls are refused now: settings not verified yet, or found to differ. */
  private refusal?: Error;
  private readonly claimSettings: SessionScripts['claimDeploymentSettings'];
  private readonly claimFormat: SessionScripts['claimSessionFormat'];
  /** The format this process writes: the deployment's (format 1 until it is settled). */
  private writeFormat: SessionFormat = 1;
  /** Where the scripts publish cache invalidations. */
  private readonly channel: string;
  private joinedExisting = true;

  constructor(
    /** The library's client: for the library's own subscriber, not for reading fields. */
    readonly redis: Redis | Cluster,
    private readonly options: ResolvedSessionOptions,
  ) {
    this.keys = new SessionKeys(options.keyPrefix, options.streamPartitions);
    const scripts = defineSessionScripts(redis);
    // The checks themselves are never held.
    this.claimSettings = scripts.claimDeploymentSettings;
    this.claimFormat = scripts.claimSessionFormat;
    this.scripts = refusableScripts(scripts, () => this.refusal);
    this.channel = this.keys.invalidationChannel();
  }

  // ── deployment ────────────────────────────────────────────────────────────────────────────

  /**
   * Compares this process's deployment-wide settings with those stored by the first process of
   * the deployment (storing them when it is the first). On a difference every later script call
   * is refused with the returned error; on agreement a hold (see holdScripts) is lifted.
   */
  async claimDeploymentSettings(): Promise<DeploymentMismatchError | null> {
    const key = this.keys.deploymentSettings();
    // Only for the log line (a process with a mistyped prefix creates a deployment of its own).
    this.joinedExisting = (await guardStoreCall(() => this.redis.exists(key))) === 1;
    // Before the other settings: a deployment whose settings exist predates the format setting.
    this.writeFormat = toSessionFormat(
      await guardStoreCall(() => this.claimFormat(key, NEWEST_SESSION_FORMAT)),
    );
    // A setting the deployment does not store yet (it was created by an older release) is
    // claimed with this process's value: the first process of the new release sets it.
    const settings = deploymentSettingsOf(this.options);
    const stored = (await guardStoreCall(() =>
      this.claimSettings(key, ...settings.flat()),
    )) as unknown as string[];
    const index = settings.findIndex(([, value], i) => stored[i] !== value);
    if (index === -1) {
      this.refusal = undefined;
      return null;
    }
    const [name, configured] = settings[index];
    const mismatch = new DeploymentMismatchError(
      name,
      configured,
      stored[index],
      this.options.keyPrefix,
    );
    this.refusal = mismatch;
    return mismatch;
  }

  /** Whether the last claim found the deployment already there (false: this process created it). */
  get joinedExistingDeployment(): boolean {
    return this.joinedExisting;
  }

  /** The deployment settings as stored (a setting not stored yet is absent). */
  async storedDeploymentSettings(): Promise<Partial<Record<DeploymentSettingName, string>>> {
    const values = await guardStoreCall(() =>
      this.redis.hmget(this.keys.deploymentSettings(), ...DEPLOYMENT_SETTING_NAMES),
    );
    const stored: Partial<Record<DeploymentSettingName, string>> = {};
    DEPLOYMENT_SETTING_NAMES.forEach((name, i) => {
      if (values[i] !== null) stored[name] = values[i];
    });
    return stored;
  }

  /**
   * The deliberate change: stores this process's values of the settings that may change in place
   * (all but the fixed ones, see deployment-settings.ts), so processes configured with them may
   * start and the others refuse to. Returns the settings as stored before.
   */
  async adoptDeploymentSettings(): Promise<Partial<Record<DeploymentSettingName, string>>> {
    const before = await this.storedDeploymentSettings();
    const changes = deploymentSettingsOf(this.options).filter(
      ([name]) => !FIXED_DEPLOYMENT_SETTINGS.has(name),
    );
    await guardStoreCall(() => this.redis.hset(this.keys.deploymentSettings(), ...changes.flat()));
    return before;
  }

  /** The storage format this process writes (see session-format.ts). */
  get format(): SessionFormat {
    return this.writeFormat;
  }

  /**
   * Raises the deployment's format, once every process runs a release that reads it (processes
   * write it from their next start). Never lowers it.
   */
  async raiseFormat(format: SessionFormat): Promise<void> {
    const key = this.keys.deploymentSettings();
    const stored = toSessionFormat(await guardStoreCall(() => this.redis.hget(key, 'format')));
    if (format > stored) await guardStoreCall(() => this.redis.hset(key, 'format', format));
  }

  /** Refuses every script call with `error` until the deployment settings are verified. */
  holdScripts(error: Error): void {
    this.refusal = error;
  }

  /** Why script calls are refused now (settings unverified or differing), or undefined. */
  get refusedBecause(): Error | undefined {
    return this.refusal;
  }

  /** Resolves when Redis answers PING (health checks). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Redis's clock in ms: the one clock every expiry is judged by. */
  async redisTime(): Promise<number> {
    return timeReplyMs(await guardStoreCall(() => this.redis.time()));
  }

  // ── sessions ──────────────────────────────────────────────────────────────────────────────

  async create(record: NewSessionRecord): Promise<ScriptOutcome<SessionTimes>> {
    const { keys, options } = this;
    const reply = await guardStoreCall(() =>
      this.scripts.createSession(
        keys.session(record.sessionId, record.partition),
        keys.revocationEpochs(record.partition),
        keys.events(record.partition),
        record.userId,
        storedDigest(record.secretHash, this.writeFormat),
        record.csrfToken,
        record.idleTtlMs ?? options.idleTtlMs,
        options.absoluteTtlMs,
        options.streamRetentionMs,
        options.streamMaxLength,
        record.dataBytes,
        record.sessionId,
        this.writeFormat,
        ...metaFields(record.meta),
        ...record.dataFields,
      ),
    );
    return outcome(reply, ([, createdAt, expiresAt, absoluteExpiresAt]) => ({
      createdAt: Number(createdAt),
      lastAccessedAt: Number(createdAt),
      expiresAt: Number(expiresAt),
      absoluteExpiresAt: Number(absoluteExpiresAt),
    }));
  }

  /** Validates (and, when due, touches) a session; also returns the Redis clock. */
  async validate(
    sessionId: string,
    partition: number,
    secretHash: string,
  ): Promise<ScriptOutcome<{ session: Session; redisNow: number }>> {
    const reply = await guardStoreCall(() =>
      this.scripts.validateSession(
        this.keys.session(sessionId, partition),
        this.keys.revocationEpochs(partition),
        secretHash,
        this.options.touchIntervalMs,
      ),
    );
    return outcome(reply, ([, redisNow, lastAccessedAt, expiresAt]) => ({
      session: recordToSession(
        sessionId,
        flatToRecord(reply, 4),
        Number(lastAccessedAt),
        Number(expiresAt),
      ),
      redisNow: Number(redisNow),
    }));
  }

  /** Merges a patch; `changed` is false when it changed nothing (then no event was appended). */
  async update(
    sessionId: string,
    partition: number,
    fields: string[],
  ): Promise<ScriptOutcome<{ data: SessionData; changed: boolean }>> {
    const reply = await guardStoreCall(() =>
      this.scripts.updateSession(
        this.keys.session(sessionId, partition),
        this.keys.revocationEpochs(partition),
        this.keys.events(partition),
        sessionId,
        this.options.maxDataBytes,
        this.options.maxDataKeys,
        this.options.streamRetentionMs,
        this.options.streamMaxLength,
        this.channel,
        ...fields,
      ),
    );
    return outcome(reply, ([, , changed]) => ({
      data: decodeData(flatToRecord(reply, 3)),
      changed: Number(changed) === 1,
    }));
  }

  async rotate(args: {
    sessionId: string;
    newSessionId: string;
    partition: number;
    secretHash: string;
    newSecretHash: string;
    newCsrfToken: string;
  }): Promise<ScriptOutcome<SessionTimes & { userId: string }>> {
    const { keys } = this;
    const reply = await guardStoreCall(() =>
      this.scripts.rotateSession(
        keys.session(args.sessionId, args.partition),
        keys.session(args.newSessionId, args.partition),
        keys.revocationEpochs(args.partition),
        keys.events(args.partition),
        args.secretHash,
        storedDigest(args.newSecretHash, this.writeFormat),
        args.newCsrfToken,
        args.sessionId,
        args.newSessionId,
        this.options.streamRetentionMs,
        this.options.streamMaxLength,
        this.channel,
      ),
    );
    return outcome(
      reply,
      ([, userId, createdAt, lastAccessedAt, expiresAt, absoluteExpiresAt]) => ({
        userId: String(userId),
        createdAt: Number(createdAt),
        lastAccessedAt: Number(lastAccessedAt),
        expiresAt: Number(expiresAt),
        absoluteExpiresAt: Number(absoluteExpiresAt),
      }),
    );
  }

  /** Returns the owner's user id, or null when there was nothing (of that user) to revoke. */
  async revoke(
    sessionId: string,
    partition: number,
    reason: string,
    expectedUserId = '',
  ): Promise<string | null> {
    const reply = await guardStoreCall(() =>
      this.scripts.revokeSession(
        this.keys.session(sessionId, partition),
        this.keys.events(partition),
        sessionId,
        reason,
        this.options.streamRetentionMs,
        this.options.streamMaxLength,
        expectedUserId,
        this.channel,
      ),
    );
    return reply[0] === 'ok' ? String(reply[1]) : null;
  }

  /** Moves the user's revoke-all epoch; returns it. */
  async revokeUser(userId: string): Promise<number> {
    const partition = this.keys.partitionOf(userId);
    const reply = await guardStoreCall(() =>
      this.scripts.revokeUserSessions(
        this.keys.revocationEpochs(partition),
        this.keys.events(partition),
        userId,
        this.options.streamRetentionMs,
        this.options.streamMaxLength,
        this.channel,
      ),
    );
    return Number(reply[1]);
  }

  async revokeOthers(
    userId: string,
    keepSessionId: string,
    keepPartition: number,
  ): Promise<ScriptOutcome<number>> {
    const partition = this.keys.partitionOf(userId);
    if (partition !== keepPartition) return { ok: false, reason: 'unknown' };
    const reply = await guardStoreCall(() =>
      this.scripts.revokeOtherSessions(
        this.keys.revocationEpochs(partition),
        this.keys.session(keepSessionId, partition),
        this.keys.events(partition),
        userId,
        keepSessionId,
        this.options.streamRetentionMs,
        this.options.streamMaxLength,
        this.channel,
      ),
    );
    return outcome(reply, ([, revokedBefore]) => Number(revokedBefore));
  }

  // ── middleware session ids (stores for express-session and @fastify/session) ──────────────

  /** The session id a middleware sid (by its SHA-256) stands for, or null. */
  async readSidPointer(sidDigest: string): Promise<string | null> {
    return guardStoreCall(() => this.redis.get(this.keys.sidPointer(sidDigest)));
  }

  /**
   * Points a sid at a session until `expiresAt` (ms, Redis time): 'create' only when the sid
   * points nowhere yet (false when it already did), 'move' whatever it pointed at.
   */
  async writeSidPointer(
    sidDigest: string,
    sessionId: string,
    expiresAt: number,
    mode: 'create' | 'move',
  ): Promise<boolean> {
    const key = this.keys.sidPointer(sidDigest);
    const reply = await guardStoreCall(() =>
      mode === 'create'
        ? this.redis.set(key, sessionId, 'PXAT', expiresAt, 'NX')
        : this.redis.set(key, sessionId, 'PXAT', expiresAt),
    );
    return reply === 'OK';
  }

  /** A session connect-redis stored (its whole key name given), for the lazy migration. */
  async readLegacySession(key: string): Promise<string | null> {
    return guardStoreCall(() => this.redis.get(key));
  }

  async deleteLegacySession(key: string): Promise<void> {
    await guardStoreCall(() => this.redis.del(key));
  }

  /** Publishes a cache invalidation (a message of invalidation-message.ts) to every instance. */
  async publishInvalidation(message: string): Promise<void> {
    await guardStoreCall(() => this.redis.publish(this.channel, message));
  }

  // ── the user index (the worker's projection) and its readers ─────────────────────────────

  /** Ids in a user's index, newest first, from `offset` (all when count is omitted). */
  async userSessionIds(userId: string, offset = 0, count?: number): Promise<string[]> {
    const stop = count === undefined ? -1 : offset + count - 1;
    return guardStoreCall(() => this.redis.zrevrange(this.keys.userSessions(userId), offset, stop));
  }

  /**
   * The stored fields of the given sessions of one user, and the user's revoke-all epoch: one
   * pipeline on one slot (the user's hash tag), so it works on a cluster too.
   */
  async userSessionRows(userId: string, sessionIds: readonly string[]): Promise<UserSessionRows> {
    if (sessionIds.length === 0) return { revokedBefore: null, rows: [] };
    if (userId === '') return this.guestSessionRows(sessionIds);
    const partition = this.keys.partitionOf(userId);
    const pipeline = this.redis.pipeline();
    pipeline.hget(this.keys.revocationEpochs(partition), userId);
    for (const id of sessionIds) pipeline.hmget(this.keys.session(id, partition), ...ROW_FIELDS);
    const replies = await guardStoreCall(async () => (await pipeline.exec()) ?? []);
    // A pipeline reports each command's failure in its reply, not by throwing: mapped like a
    // thrown one (a fail-over's CLUSTERDOWN is a 503), and a row that could not be read fails the
    // whole answer rather than leaving the session out of the list.
    const failure = replies.find(([error]) => error)?.[0];
    if (failure) throw toStoreError(failure);
    const epoch = replies[0]?.[1];
    return {
      revokedBefore: epoch === null || epoch === undefined ? null : Number(epoch),
      rows: sessionIds.map((id, i) => toRow(id, (replies[i + 1]?.[1] ?? []) as (string | null)[])),
    };
  }

  /**
   * Guest sessions (user id '') live in the partition their id names, not in one of a user: one
   * read each (they may be in different slots), no epoch (no one revokes all of no one).
   */
  private async guestSessionRows(sessionIds: readonly string[]): Promise<UserSessionRows> {
    const rows = await Promise.all(
      sessionIds.map(async (id) => {
        const partition = Number.parseInt(id, 10);
        if (!Number.isInteger(partition) || partition < 0 || partition >= this.keys.partitions)
          return null;
        const values = await guardStoreCall(() =>
          this.redis.hmget(this.keys.session(id, partition), ...ROW_FIELDS),
        );
        return toRow(id, values);
      }),
    );
    return { revokedBefore: null, rows };
  }

  /**
   * How many of the user's indexed sessions are still stored and not yet revoked by the epoch:
   * the figure a revoke-all reports. The index is the worker's projection, so a session created a
   * few milliseconds ago may be revoked without being counted.
   */
  async countLiveIndexed(userId: string, exceptSessionId?: string): Promise<number> {
    const ids = (await this.userSessionIds(userId)).filter((id) => id !== exceptSessionId);
    const { revokedBefore, rows } = await this.userSessionRows(userId, ids);
    return rows.filter(
      (row) => row !== null && !revokedByEpoch(row.createdAt, row.keptThrough, revokedBefore),
    ).length;
  }

  /**
   * session.created / session.rotated: index the (new) session if it is still stored. True when
   * it was put into its user's index (a guest session goes into the expiry index alone: false).
   */
  async indexSession(
    sessionId: string,
    partition: number,
    userId: string,
    replacedSessionId = '',
  ): Promise<boolean> {
    const [status] = await guardStoreCall(() =>
      this.scripts.indexSession(
        this.keys.session(sessionId, partition),
        this.keys.userSessionsOf(userId, partition),
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

  /** session.revoked / session.expired: drop the session from both indexes. */
  async unindexSession(sessionId: string, partition: number, userId: string): Promise<void> {
    await guardStoreCall(() =>
      this.scripts.unindexSession(
        this.keys.userSessionsOf(userId, partition),
        this.keys.expiryIndex(partition),
        sessionId,
        userId,
      ),
    );
  }

  /** Indexed ids of a user created at or before `revokedBefore`: what a revoke-all may purge. */
  async indexedUpTo(userId: string, revokedBefore: number): Promise<string[]> {
    return guardStoreCall(() =>
      this.redis.zrangebyscore(this.keys.userSessions(userId), '-inf', revokedBefore),
    );
  }

  /** Deletes one session its user's epoch revoked (and its index entries); true when purged. */
  async purgeRevokedSession(
    sessionId: string,
    partition: number,
    userId: string,
  ): Promise<boolean> {
    const purged = await guardStoreCall(() =>
      this.scripts.purgeRevokedSession(
        this.keys.session(sessionId, partition),
        this.keys.userSessions(userId),
        this.keys.expiryIndex(partition),
        this.keys.revocationEpochs(partition),
        sessionId,
        userId,
      ),
    );
    return Number(purged) === 1;
  }

  /**
   * The stored last-access time of each of a user's indexed sessions (gone ones left out); none
   * read when the index holds no more than `onlyAbove` (the session limit's common case).
   */
  async lastAccessTimes(
    userId: string,
    onlyAbove = 0,
  ): Promise<{ sessionId: string; lastAccessedAt: number }[]> {
    const ids = await this.userSessionIds(userId);
    if (ids.length <= onlyAbove) return [];
    const { rows } = await this.userSessionRows(userId, ids);
    return rows
      .filter((row): row is StoredSessionRow => row !== null && row.userId === userId)
      .map(({ sessionId, lastAccessedAt }) => ({ sessionId, lastAccessedAt }));
  }

  // ── the expiry index and sweeps ───────────────────────────────────────────────────────────

  /** Up to `limit` entries of a partition's expiry index due at `now`. */
  async dueExpiries(partition: number, now: number, limit: number): Promise<ExpiryMember[]> {
    const members = await guardStoreCall(() =>
      this.redis.zrangebyscore(this.keys.expiryIndex(partition), '-inf', now, 'LIMIT', 0, limit),
    );
    return members.map(parseExpiryMember);
  }

  /** Moves a due entry to its real expiry, or ends the session with session.expired. */
  async expireSession(partition: number, due: ExpiryMember): Promise<SweepOutcome> {
    const [status] = await guardStoreCall(() =>
      this.scripts.expireSession(
        this.keys.session(due.sessionId, partition),
        this.keys.userSessionsOf(due.userId, partition),
        this.keys.expiryIndex(partition),
        this.keys.events(partition),
        due.sessionId,
        due.userId,
        this.options.streamRetentionMs,
        this.options.streamMaxLength,
        this.channel,
      ),
    );
    return status as SweepOutcome;
  }

  /** The earliest expected expiry of a partition (ms), or null when its index is empty. */
  async earliestExpiry(partition: number): Promise<number | null> {
    const oldest = await guardStoreCall(() =>
      this.redis.zrange(this.keys.expiryIndex(partition), 0, 0, 'WITHSCORES'),
    );
    return oldest.length === 2 ? Number(oldest[1]) : null;
  }

  /** One HSCAN step of dropping revoke-all epochs older than the stream retention. */
  async pruneRevocationEpochs(
    partition: number,
    cursor: string,
    batch: number,
  ): Promise<{ cursor: string; pruned: number }> {
    const [next, count] = await guardStoreCall(() =>
      this.scripts.pruneRevocationEpochs(
        this.keys.revocationEpochs(partition),
        cursor,
        batch,
        this.options.streamRetentionMs,
      ),
    );
    return { cursor: String(next), pruned: Number(count) };
  }

  // ── streams, rebuild and check ────────────────────────────────────────────────────────────

  /** Every partition's event stream. */
  eventStreams(): string[] {
    return this.keys.allEventStreams();
  }

  /** How many entries the worker dead-lettered from a stream. */
  async deadLetterCount(stream: string): Promise<number> {
    return guardStoreCall(() => this.redis.xlen(this.keys.deadLetters(stream)));
  }

  /** Retained entries of all partitions. */
  async retainedEventCount(): Promise<number> {
    const lengths = await Promise.all(
      this.eventStreams().map((stream) => guardStoreCall(() => this.redis.xlen(stream))),
    );
    return lengths.reduce((a, b) => a + b, 0);
  }

  /** Up to `count` entries of a stream after `afterId` ('-' for the start), in order. */
  async readEvents(stream: string, afterId: string, count: number): Promise<StoredEventEntry[]> {
    const start = afterId === '-' ? '-' : `(${afterId}`;
    const entries = await guardStoreCall(() =>
      this.redis.xrange(stream, start, '+', 'COUNT', count),
    );
    return entries.map(([id, fields]) => {
      const field = (name: string) => {
        for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
        return undefined;
      };
      return { id, pattern: field('pattern') ?? '', json: field('data') };
    });
  }

  /** Every user index: userId → (sessionId → score). Scans every master of a cluster. */
  async allUserIndexes(): Promise<Map<string, Map<string, number>>> {
    const indexes = new Map<string, Map<string, number>>();
    for (const key of await this.scanKeys(this.keys.userSessionsPattern())) {
      const userId = this.keys.userOfSessionsKey(key);
      if (userId === null) continue;
      const flat = await guardStoreCall(() => this.redis.zrange(key, 0, -1, 'WITHSCORES'));
      const entries = new Map<string, number>();
      for (let i = 0; i < flat.length; i += 2) entries.set(flat[i], Number(flat[i + 1]));
      indexes.set(userId, entries);
    }
    return indexes;
  }

  /** A partition's expiry index: its members with their expected expiry. */
  async expiryEntries(partition: number): Promise<(ExpiryMember & { expiresAt: number })[]> {
    const flat = await guardStoreCall(() =>
      this.redis.zrange(this.keys.expiryIndex(partition), 0, -1, 'WITHSCORES'),
    );
    const entries: (ExpiryMember & { expiresAt: number })[] = [];
    for (let i = 0; i < flat.length; i += 2)
      entries.push({ ...parseExpiryMember(flat[i]), expiresAt: Number(flat[i + 1]) });
    return entries;
  }

  /** Whether the expiry index holds a session. */
  async inExpiryIndex(partition: number, sessionId: string, userId: string): Promise<boolean> {
    const score = await guardStoreCall(() =>
      this.redis.zscore(this.keys.expiryIndex(partition), expiryMember(sessionId, userId)),
    );
    return score !== null;
  }

  async sessionExists(sessionId: string, partition: number): Promise<boolean> {
    return (
      (await guardStoreCall(() => this.redis.exists(this.keys.session(sessionId, partition)))) === 1
    );
  }

  /** The id of a stream's last entry ('0-0' when it is empty or missing): a snapshot position. */
  async lastEventId(stream: string): Promise<string> {
    const last = await guardStoreCall(() => this.redis.xrevrange(stream, '+', '-', 'COUNT', 1));
    return last.length > 0 ? last[0][0] : '0-0';
  }

  /**
   * How far a consumer group got in a stream: the last entry it was handed, and how many of the
   * entries up to `upTo` it still has pending (read, not acknowledged). Null without the group.
   */
  async groupProgress(
    stream: string,
    group: string,
    upTo: string,
  ): Promise<{ lastDeliveredId: string; pendingUpTo: number } | null> {
    let groups: unknown[][];
    try {
      groups = (await guardStoreCall(() => this.redis.xinfo('GROUPS', stream))) as unknown[][];
    } catch (error) {
      if (String(error).includes('no such key')) return null;
      throw error;
    }
    for (const fields of groups) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) info[String(fields[i])] = fields[i + 1];
      if (info.name !== group) continue;
      const pending = await guardStoreCall<unknown[]>(() =>
        this.redis.xpending(stream, group, '-', upTo, 1),
      );
      return { lastDeliveredId: String(info['last-delivered-id']), pendingUpTo: pending.length };
    }
    return null;
  }

  /**
   * Rebuild: settles the index entries of a session whose key may be gone, given what the replay
   * up to a snapshot says of it (see reconcileGoneSession-4.lua). 'due': run expireSession next.
   */
  async reconcileGoneSession(
    sessionId: string,
    partition: number,
    userId: string,
    tailAfterId: string,
    replayed: 'live' | 'ended' | 'unknown',
  ): Promise<'stored' | 'changing' | 'dropped' | 'due'> {
    const [status] = await guardStoreCall(() =>
      this.scripts.reconcileGoneSession(
        this.keys.session(sessionId, partition),
        this.keys.userSessionsOf(userId, partition),
        this.keys.expiryIndex(partition),
        this.keys.events(partition),
        sessionId,
        userId,
        tailAfterId,
        replayed,
      ),
    );
    return status as 'stored' | 'changing' | 'dropped' | 'due';
  }

  /**
   * Every session stored in a partition with its user (SCAN, then the owners pipelined: the
   * keys share the partition's slot). What a retention-gap repair indexes.
   */
  async storedSessions(partition: number): Promise<{ sessionId: string; userId: string }[]> {
    const keys = await this.scanKeys(this.keys.partitionPatterns(partition).sessions);
    const found: { sessionId: string; userId: string }[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const pipeline = this.redis.pipeline();
      batch.forEach((key) => pipeline.hget(key, F.userId));
      const replies = await guardStoreCall(async () => (await pipeline.exec()) ?? []);
      // A repair that skipped an unreadable session would leave it unindexed: fail, and retry.
      const failure = replies.find(([error]) => error)?.[0];
      if (failure) throw toStoreError(failure);
      batch.forEach((key, j) => {
        const sessionId = this.keys.sessionIdOfKey(key, partition);
        const userId = replies[j]?.[1];
        if (sessionId !== null && typeof userId === 'string') found.push({ sessionId, userId });
      });
    }
    return found;
  }

  /** The users of a partition that have a session index. */
  async indexedUsers(partition: number): Promise<string[]> {
    const keys = await this.scanKeys(this.keys.partitionPatterns(partition).userSessions);
    return keys.map((key) => this.keys.userOfSessionsKey(key)).filter((u): u is string => !!u);
  }

  /** SCAN over every master (a cluster's keys are spread over them), or the one server. */
  private async scanKeys(match: string): Promise<string[]> {
    const found: string[] = [];
    const nodes = 'nodes' in this.redis ? this.redis.nodes('master') : [this.redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, batch] = await guardStoreCall(() =>
          node.scan(cursor, 'MATCH', match, 'COUNT', 1000),
        );
        found.push(...batch);
        cursor = next;
      } while (cursor !== '0');
    }
    return found;
  }

  // ── the api's rate-limit counters ─────────────────────────────────────────────────────────

  /**
   * Counts one in every counter (one, or two of one hash slot) unless one of them has reached
   * its limit: a refused request counts nowhere.
   */
  async reserveCounters(
    counters: readonly [CounterLimit] | readonly [CounterLimit, CounterLimit],
    windowMs: number,
  ): Promise<Reservation> {
    const [first, second] = counters;
    const [index, ttl] = (await guardStoreCall(() =>
      second
        ? this.scripts.reserveCounterPair(
            first.key,
            second.key,
            windowMs,
            first.limit,
            second.limit,
          )
        : this.scripts.reserveCounter(first.key, windowMs, first.limit),
    )) as unknown as [number, number];
    if (Number(index) === 0) return { counted: true };
    return { counted: false, index: Number(index) - 1, retryAfterMs: Number(ttl) };
  }

  /** Gives back one count to each counter (one, or two of one hash slot). */
  async refundCounters(keys: readonly [string] | readonly [string, string]): Promise<void> {
    const [first, second] = keys;
    await guardStoreCall(() =>
      second
        ? this.scripts.refundCounterPair(first, second, 0)
        : this.scripts.refundCounter(first, 0),
    );
  }
}
