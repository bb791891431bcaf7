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

  /** Sorted set of the partition's session ids by expiry time (kept by the worker). */
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

  /**
   * Hash of the settings every process of the deployment must share (the partition count), written
   * by the first process to start. Not hash-tagged: only read and written on its own.
   */
  deploymentSettings(): string {
    return `${this.prefix}:deployment`;
  }

  /**
   * Pub/sub channel of cache invalidations. Classic (not sharded) pub/sub: in a cluster a message
   * reaches every node, so one subscription per instance hears every partition.
   */
  invalidationChannel(): string {
    return `${this.prefix}:invalidations`;
  }
}
