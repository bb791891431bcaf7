import type { Cluster, Redis } from 'ioredis';
import { DeploymentMismatchError } from './errors';
import { SessionKeys } from './keys';
import { guardStoreCall } from './redis-errors';
import { decodeData } from './session-data';
import type { ResolvedSessionOptions } from './session-options';
import { flatToRecord, recordToSession } from './session-record';
import { SESSION_EVENT_SCHEMA_VERSION } from './session-events';
import {
  defineSessionScripts,
  refusableScripts,
  type ScriptReply,
  type SessionScripts,
} from './session-scripts';
import type { InvalidSessionReason, Session, SessionData, SessionMeta } from './session.types';

export interface NewSessionRecord {
  sessionId: string;
  partition: number;
  userId: string;
  secretHash: string;
  csrfToken: string;
  dataBytes: number;
  dataFields: string[];
  meta: Required<SessionMeta>;
}

export interface SessionTimes {
  createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

export type ScriptOutcome<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      reason: InvalidSessionReason | 'exists' | 'too_large' | 'too_many_keys';
      detail?: number;
    };

function outcome<T>(reply: ScriptReply, value: (reply: ScriptReply) => T): ScriptOutcome<T> {
  const [status] = reply;
  if (status === 'ok') return { ok: true, value: value(reply) };
  return {
    ok: false,
    reason: status as InvalidSessionReason,
    detail: reply[1] === undefined ? undefined : Number(reply[1]),
  };
}

/**
 * session.created as far as it is known before the script runs (the script appends the times):
 * JSON.stringify escapes the user id, so any string is safe inside the event.
 */
function createdEventHead(sessionId: string, userId: string): string {
  return (
    `{"v":${SESSION_EVENT_SCHEMA_VERSION},"type":"session.created",` +
    `"sessionId":${JSON.stringify(sessionId)},"userId":${JSON.stringify(userId)}`
  );
}

/** The session's optional metadata as hash fields (name, value), only those known. */
function metaFields(meta: Required<SessionMeta>): string[] {
  const fields: string[] = [];
  if (meta.userAgent !== '') fields.push('ua', meta.userAgent);
  if (meta.ip !== '') fields.push('ip', meta.ip);
  if (meta.deviceLabel !== '') fields.push('dev', meta.deviceLabel);
  return fields;
}

/**
 * The only class that talks to Redis for session state: every write is one Lua script that
 * changes the state and appends the event; key names come from SessionKeys.
 */
export class SessionRepository {
  readonly keys: SessionKeys;
  /** The Lua scripts, refused once this process is found configured unlike its deployment. */
  readonly scripts: SessionScripts;
  /** Why script calls are refused now: settings not verified yet, or found to differ. */
  private refusal?: Error;
  private readonly claimSettings: SessionScripts['claimDeploymentSettings'];
  /** Where the scripts publish cache invalidations. */
  private readonly channel: string;

  constructor(
    readonly redis: Redis | Cluster,
    private readonly options: ResolvedSessionOptions,
  ) {
    this.keys = new SessionKeys(options.keyPrefix, options.streamPartitions);
    const scripts = defineSessionScripts(redis);
    this.claimSettings = scripts.claimDeploymentSettings; // the check itself is never held
    this.scripts = refusableScripts(scripts, () => this.refusal);
    this.channel = this.keys.invalidationChannel();
  }

  /**
   * Compares this process's deployment-wide settings with those stored by the first process of
   * the deployment (storing them when it is the first). On a difference every later script call
   * is refused with the returned error; on agreement a hold (see holdScripts) is lifted.
   */
  async claimDeploymentSettings(): Promise<DeploymentMismatchError | null> {
    const settings: [string, string][] = [
      ['streamPartitions', String(this.options.streamPartitions)],
    ];
    const stored = (await guardStoreCall(() =>
      this.claimSettings(this.keys.deploymentSettings(), ...settings.flat()),
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

  /** Refuses every script call with `error` until the deployment settings are verified. */
  holdScripts(error: Error): void {
    this.refusal = error;
  }

  async create(record: NewSessionRecord): Promise<ScriptOutcome<SessionTimes>> {
    const { keys, options } = this;
    const reply = await guardStoreCall(() =>
      this.scripts.createSession(
        keys.session(record.sessionId, record.partition),
        keys.revocationEpochs(record.partition),
        keys.events(record.partition),
        record.userId,
        record.secretHash,
        record.csrfToken,
        options.idleTtlMs,
        options.absoluteTtlMs,
        options.streamRetentionMs,
        options.streamMaxLength,
        record.dataBytes,
        createdEventHead(record.sessionId, record.userId),
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
        args.newSecretHash,
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

  /**
   * How many of the user's indexed sessions are still stored and not yet revoked by the epoch:
   * the figure a revoke-all reports. The index is the worker's projection, so a session created a
   * few milliseconds ago may be revoked without being counted.
   */
  async countLiveIndexed(userId: string, exceptSessionId?: string): Promise<number> {
    const partition = this.keys.partitionOf(userId);
    return guardStoreCall(async () => {
      const ids = (await this.redis.zrange(this.keys.userSessions(userId), 0, -1)).filter(
        (id) => id !== exceptSessionId,
      );
      if (ids.length === 0) return 0;
      const pipeline = this.redis.pipeline();
      pipeline.hget(this.keys.revocationEpochs(partition), userId);
      for (const id of ids) pipeline.hmget(this.keys.session(id, partition), 'ca', 'kt');
      const results = (await pipeline.exec()) ?? [];
      const epoch = Number(results[0]?.[1] ?? 0);
      return results.slice(1).filter(([error, value]) => {
        const [createdAt, keptThrough] = (value ?? []) as (string | null)[];
        if (error || createdAt === null) return false;
        return Number(createdAt) > epoch || Number(keptThrough ?? -1) >= epoch;
      }).length;
    });
  }
}
