import type { Cluster, Redis } from 'ioredis';
import { parseSessionEvent, type SessionKeys } from '@app/session';
import { ProjectionReplay } from './projection-replay';

export interface ProjectionDifference {
  userId: string;
  sessionId: string;
  problem:
    | 'missing-from-user-index'
    | 'unexpected-in-user-index'
    | 'wrong-score'
    | 'missing-from-expiry-index'
    | 'unexpected-in-expiry-index';
}

export interface ProjectionCheckReport {
  events: number;
  unreadableEvents: number;
  sessions: number;
  users: number;
  /** Differences about sessions already gone from Redis (expired, not yet swept): not errors. */
  ignoredGone: number;
  differences: ProjectionDifference[];
}

const BATCH = 1000;

/** Reads every retained event of every partition, in order, calling `onProgress` as it goes. */
export async function replayStreams(
  redis: Redis | Cluster,
  keys: SessionKeys,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<{ replay: ProjectionReplay; unreadable: number }> {
  const replay = new ProjectionReplay();
  const streams = keys.allEventStreams();
  const total = (await Promise.all(streams.map((stream) => redis.xlen(stream)))).reduce(
    (a, b) => a + b,
    0,
  );
  let done = 0;
  let unreadable = 0;
  for (const stream of streams) {
    let start = '-';
    for (;;) {
      const entries = await redis.xrange(stream, start, '+', 'COUNT', BATCH);
      for (const [id, fields] of entries) {
        start = `(${id}`;
        done++;
        const dataIndex = fields.indexOf('data');
        try {
          replay.apply(parseSessionEvent(JSON.parse(fields[dataIndex + 1])));
        } catch {
          unreadable++;
        }
      }
      onProgress(done, total);
      if (entries.length < BATCH) break;
    }
  }
  return { replay, unreadable };
}

async function scanKeys(redis: Redis | Cluster, match: string): Promise<string[]> {
  const found: string[] = [];
  const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}

/** Compares the live user and expiry indexes with what the retained events imply. */
export async function checkProjections(
  redis: Redis | Cluster,
  keys: SessionKeys,
  onProgress?: (done: number, total: number) => void,
): Promise<ProjectionCheckReport> {
  const { replay, unreadable } = await replayStreams(redis, keys, onProgress);
  const expected = replay.userIndexes();
  const differences: ProjectionDifference[] = [];
  const userKeyPrefix = (userId: string) => keys.userSessions(userId);

  const liveUsers = new Map<string, Map<string, number>>();
  for (const key of await scanKeys(redis, `${keys.prefix}:{p*}:user-sessions:*`)) {
    const userId = key.slice(key.indexOf(':user-sessions:') + ':user-sessions:'.length);
    if (userKeyPrefix(userId) !== key) continue;
    const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
    const entries = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) entries.set(flat[i], Number(flat[i + 1]));
    liveUsers.set(userId, entries);
  }
  const liveExpiry = new Set<string>();
  for (let partition = 0; partition < keys.partitions; partition++) {
    for (const member of await redis.zrange(keys.expiryIndex(partition), 0, -1))
      liveExpiry.add(member);
  }

  const candidates: ProjectionDifference[] = [];
  for (const userId of new Set([...expected.keys(), ...liveUsers.keys()])) {
    const want = expected.get(userId) ?? new Map<string, number>();
    const have = liveUsers.get(userId) ?? new Map<string, number>();
    for (const [sessionId, createdAt] of want) {
      if (!have.has(sessionId))
        candidates.push({ userId, sessionId, problem: 'missing-from-user-index' });
      else if (have.get(sessionId) !== createdAt)
        candidates.push({ userId, sessionId, problem: 'wrong-score' });
      if (!liveExpiry.has(`${sessionId}|${userId}`))
        candidates.push({ userId, sessionId, problem: 'missing-from-expiry-index' });
    }
    for (const sessionId of have.keys()) {
      if (!want.has(sessionId))
        candidates.push({ userId, sessionId, problem: 'unexpected-in-user-index' });
    }
  }
  for (const member of liveExpiry) {
    const separator = member.indexOf('|');
    const [sessionId, userId] = [member.slice(0, separator), member.slice(separator + 1)];
    if (!expected.get(userId)?.has(sessionId))
      candidates.push({ userId, sessionId, problem: 'unexpected-in-expiry-index' });
  }

  // A session that already expired in Redis is dead on both sides; the sweep tidies its entries.
  let ignoredGone = 0;
  for (const difference of candidates) {
    const partition = keys.partitionOf(difference.userId);
    if ((await redis.exists(keys.session(difference.sessionId, partition))) === 0) ignoredGone++;
    else differences.push(difference);
  }
  return {
    events: replay.events,
    unreadableEvents: unreadable,
    sessions: replay.sessions.size,
    users: expected.size,
    ignoredGone,
    differences,
  };
}
