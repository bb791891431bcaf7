import type { Redis } from 'ioredis';

const KINDS: [RegExp, string][] = [
  [/:session:/, 'session hashes'],
  [/:events:dead$/, 'dead letters'],
  [/:events$/, 'event streams'],
  [/:user-sessions:/, 'per-user indexes'],
  [/:expiry$/, 'expiry indexes'],
  [/:revoked-before$/, 'revoke-all epochs'],
  [/^bull:/, 'worker scheduler (BullMQ)'],
];

function kindOf(key: string): string {
  return KINDS.find(([pattern]) => pattern.test(key))?.[1] ?? 'other';
}

export interface KeyMemory {
  kind: string;
  keys: number;
  bytes: number;
}

/** MEMORY USAGE (exact, SAMPLES 0) of every key, summed by kind of key. */
export async function memoryByKind(redis: Redis): Promise<KeyMemory[]> {
  const totals = new Map<string, KeyMemory>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const kind = kindOf(key);
      const entry = totals.get(kind) ?? { kind, keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number(replies[i]?.[1] ?? 0);
      totals.set(kind, entry);
    });
  } while (cursor !== '0');
  return [...totals.values()].sort((a, b) => b.bytes - a.bytes);
}
