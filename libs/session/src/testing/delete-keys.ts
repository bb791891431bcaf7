import { Cluster, type Redis } from 'ioredis';

/** Deletes `${prefix}:*` with SCAN + UNLINK so suites clean up without FLUSHDB on a shared DB. */
export async function deleteKeysWithPrefix(
  redis: Redis | Cluster,
  prefix: string,
): Promise<number> {
  // SCAN MATCH ignores ioredis keyPrefix while UNLINK applies it, so the two would disagree.
  const options = redis instanceof Cluster ? redis.options.keyPrefix : redis.options.keyPrefix;
  if (options) throw new Error('deleteKeysWithPrefix needs a client without keyPrefix');
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  let deleted = 0;
  // On a cluster every master is scanned, and keys are deleted one by one (they span slots).
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 500);
      if (keys.length > 0) {
        deleted +=
          redis instanceof Cluster
            ? (await Promise.all(keys.map((key) => redis.unlink(key)))).reduce((a, b) => a + b, 0)
            : await redis.unlink(...keys);
      }
      cursor = next;
    } while (cursor !== '0');
  }
  return deleted;
}
