import type { Redis } from 'ioredis';
import type { SessionKeyKind, SessionKeys } from '@app/session';

const LABELS: Record<SessionKeyKind, string> = {
  session: 'session hashes',
  'dead-letters': 'dead letters',
  events: 'event streams',
  'user-sessions': 'per-user indexes',
  'expiry-index': 'expiry indexes',
  'revocation-epochs': 'revoke-all epochs',
  deployment: 'deployment settings',
  'login-failures': 'login failure counters',
  'session-writes': 'session write counters',
  'sid-pointer': 'middleware sid pointers',
};

/** Ours by the library's own key names (`keys`), BullMQ's by its prefix, the rest as 'other'. */
function kindOf(key: string, keys?: SessionKeys): string {
  const kind = keys?.kindOf(key);
  if (kind) return LABELS[kind];
  return key.startsWith('bull:') ? 'worker scheduler (BullMQ)' : 'other';
}

export interface KeyMemory {
  kind: string;
  keys: number;
  bytes: number;
}

/** MEMORY USAGE (exact, SAMPLES 0) of every key, summed by kind of key. */
export async function memoryByKind(redis: Redis, sessionKeys?: SessionKeys): Promise<KeyMemory[]> {
  const totals = new Map<string, KeyMemory>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const kind = kindOf(key, sessionKeys);
      const entry = totals.get(kind) ?? { kind, keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number(replies[i]?.[1] ?? 0);
      totals.set(kind, entry);
    });
  } while (cursor !== '0');
  return [...totals.values()].sort((a, b) => b.bytes - a.bytes);
}
