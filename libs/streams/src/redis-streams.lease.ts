import type { Cluster, Redis } from 'ioredis';
import { loadScript, runScript } from './redis-streams.scripts';

/** Ids per script call: keeps scripts short (they block the server while they run). */
export const LEASE_CHUNK = 200;

/**
 * Renews the lease of entries `consumer` still owns (scripts/renewLeases-1.lua), recording a
 * delivery when `retryCount` is given. Returns the ids renewed.
 */
export async function renewLeases(
  redis: Redis | Cluster,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
  retryCount?: number,
): Promise<string[]> {
  const script = loadScript('renewLeases-1.lua');
  const renewed: string[] = [];
  for (let i = 0; i < ids.length; i += LEASE_CHUNK) {
    const args = [group, consumer, retryCount ?? '', ...ids.slice(i, i + LEASE_CHUNK)];
    const reply = await runScript(redis, script, [stream], args);
    if (Array.isArray(reply)) {
      for (const id of reply) if (typeof id === 'string') renewed.push(id);
    }
  }
  return renewed;
}
