/** What a key of the deployment holds (see SessionKeys.kindOf). */
export type SessionKeyKind =
  | 'session'
  | 'revocation-epochs'
  | 'user-sessions'
  | 'expiry-index'
  | 'events'
  | 'dead-letters'
  | 'deployment'
  | 'login-failures'
  | 'session-writes'
  | 'sid-pointer';

const TAGGED_KINDS: [RegExp, SessionKeyKind][] = [
  [/^session:/, 'session'],
  [/^revoked-before$/, 'revocation-epochs'],
  [/^user-sessions:/, 'user-sessions'],
  [/^expiry$/, 'expiry-index'],
  [/^events$/, 'events'],
  [/^events:dead(:[A-Za-z0-9_.-]+)?$/, 'dead-letters'],
];
const UNTAGGED_KINDS: [RegExp, SessionKeyKind][] = [
  [/^deployment$/, 'deployment'],
  [/^login-failures:/, 'login-failures'],
  [/^session-writes:/, 'session-writes'],
  [/^sid:/, 'sid-pointer'],
];

/**
 * The one place that knows how keys are named.
 *
 * Every key of a user — their sessions, their session index, their stream partition — carries the
 * same hash tag `{p<N>}`, where N is the user's partition. Scripts therefore touch one slot and the
 * same code runs on Redis Cluster. The partition travels inside the session id, so a token alone is
 * enough to find its keys.
 */
export class SessionKeys {
  constructor(
    readonly prefix: string,
    readonly partitions: number,
  ) {}

  /** Stable partition of a user id: FNV-1a over its UTF-8 bytes. */
  partitionOf(userId: string): number {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(userId, 'utf8')) {
      hash ^= byte;
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % this.partitions;
  }

  private tag(partition: number): string {
    return `${this.prefix}:{p${partition}}`;
  }

  /** Hash holding one session's fields (see session-record.ts). */
  session(sessionId: string, partition: number): string {
    return `${this.tag(partition)}:session:${sessionId}`;
  }

  /** Hash of userId → revokedBefore (ms) for the users of one partition: the revoke-all epoch. */
  revocationEpochs(partition: number): string {
    return `${this.tag(partition)}:revoked-before`;
  }

  /** Sorted set of a user's session ids (kept by the worker). The user id always ends the key. */
  userSessions(userId: string): string {
    return `${this.tag(this.partitionOf(userId))}:user-sessions:${userId}`;
  }

  /**
   * The user index a script gets for a session of `partition`: the user's, or for a guest (user
   * id '') a key of the session's own slot that the scripts never write (guests are not indexed
   * per user; see stores/README section of the project README).
   */
  userSessionsOf(userId: string, partition: number): string {
    return userId === '' ? `${this.tag(partition)}:user-sessions:` : this.userSessions(userId);
  }

  /** SCAN pattern matching every user's session index (the rebuild clears them). */
  userSessionsPattern(): string {
    return `${this.prefix}:{p*}:user-sessions:*`;
  }

  /** SCAN patterns of one partition's sessions and user indexes (a retention-gap repair). */
  partitionPatterns(partition: number): { sessions: string; userSessions: string } {
    return {
      sessions: `${this.tag(partition)}:session:*`,
      userSessions: `${this.tag(partition)}:user-sessions:*`,
    };
  }

  /** The session id of a key `partitionPatterns().sessions` matched, or null. */
  sessionIdOfKey(key: string, partition: number): string | null {
    const prefix = `${this.tag(partition)}:session:`;
    return key.startsWith(prefix) ? key.slice(prefix.length) : null;
  }

  /** The user id of a key `userSessionsPattern()` matched, or null when it is not one of ours. */
  userOfSessionsKey(key: string): string | null {
    const marker = ':user-sessions:';
    const at = key.indexOf(marker);
    if (at < 0) return null;
    const userId = key.slice(at + marker.length);
    return this.userSessions(userId) === key ? userId : null;
  }

  /** Sorted set of the partition's `<sessionId>|<userId>` members by expiry time (the worker's). */
  expiryIndex(partition: number): string {
    return `${this.tag(partition)}:expiry`;
  }

  /** The lifecycle event stream of one partition. */
  events(partition: number): string {
    return `${this.tag(partition)}:events`;
  }

  allEventStreams(): string[] {
    return Array.from({ length: this.partitions }, (_, p) => this.events(p));
  }

  /** Where the worker moves the entries of a stream it gave up on. */
  deadLetters(stream: string): string {
    return `${stream}:dead`;
  }

  /**
   * Where an app's event consumer group (sessionEventConsumer) moves the entries it gave up on:
   * one stream per group, apart from the worker's, in the slot of its source stream.
   */
  consumerDeadLetters(stream: string, group: string): string {
    return `${stream}:dead:${group}`;
  }

  /**
   * The api's failed-login counters: per address, per user and address, per user. The user's two
   * share the user id as hash tag, so one script counts both on one cluster slot.
   */
  loginFailures(userId: string, ip: string): { ip: string; userIp: string; user: string } {
    const base = `${this.prefix}:login-failures`;
    return {
      ip: `${base}:ip:${ip}`,
      userIp: `${base}:{${userId}}:ip:${ip}`,
      user: `${base}:{${userId}}:user`,
    };
  }

  /** The api's write counter of one session (by creation time, so rotation keeps the bucket). */
  sessionWrites(userId: string, createdAt: number): string {
    return `${this.prefix}:session-writes:{${userId}}:${createdAt}`;
  }

  /**
   * String holding the session id a middleware session id (express-session's or
   * @fastify/session's sid) stands for, named by the SHA-256 of the sid: the sid itself, a bearer
   * secret, is never stored. Not hash-tagged: the pointers spread over every slot.
   */
  sidPointer(sidDigest: string): string {
    return `${this.prefix}:sid:${sidDigest}`;
  }

  /**
   * Hash of the settings every process of the deployment must share (deployment-settings.ts) and
   * the storage format, written by the first process to start. Not hash-tagged: only read and
   * written on its own.
   */
  deploymentSettings(): string {
    return `${this.prefix}:deployment`;
  }

  /** What a key holds, by its name; null when it is not a key of this deployment. */
  kindOf(key: string): SessionKeyKind | null {
    if (!key.startsWith(`${this.prefix}:`)) return null;
    const rest = key.slice(this.prefix.length + 1);
    const tagged = /^\{p\d+\}:/.exec(rest);
    const [kinds, name] = tagged
      ? [TAGGED_KINDS, rest.slice(tagged[0].length)]
      : [UNTAGGED_KINDS, rest];
    return kinds.find(([pattern]) => pattern.test(name))?.[1] ?? null;
  }

  /**
   * Pub/sub channel of cache invalidations. Classic (not sharded) pub/sub: in a cluster a message
   * reaches every node, so one subscription per instance hears every partition.
   */
  invalidationChannel(): string {
    return `${this.prefix}:invalidations`;
  }
}
