import { Cluster, type ClusterNode, Redis } from 'ioredis';

interface NodeAddress {
  host: string;
  port: number;
}

function address(node: ClusterNode): NodeAddress {
  if (typeof node === 'number') return { host: '127.0.0.1', port: node };
  if (typeof node === 'string') {
    const url = new URL(node.includes('://') ? node : `redis://${node}`);
    return { host: url.hostname, port: Number(url.port || 6379) };
  }
  return { host: node.host ?? '127.0.0.1', port: node.port ?? 6379 };
}

/**
 * The connection that carries cache invalidations.
 *
 * Standalone: a duplicate of the main client. Cluster: a plain connection to one node. Classic
 * PUBLISH is broadcast to every node of a cluster, so one node hears every partition; and a plain
 * connection reports its own close/ready (a Cluster's internal subscriber does not), which is what
 * tells the cache when to stop trusting itself. On every reconnect it moves to a master from the
 * current topology (or the next seed node), so losing one node does not silence it.
 */
export function createSubscriberConnection(redis: Redis | Cluster): Redis {
  if (!(redis instanceof Cluster)) return redis.duplicate();
  const seeds = ((redis as unknown as { startupNodes?: ClusterNode[] }).startupNodes ?? []).map(
    address,
  );
  if (seeds.length === 0)
    throw new Error('Cannot subscribe: the cluster client has no startup nodes');
  const connection = new Redis({
    ...redis.options.redisOptions,
    ...seeds[0],
    lazyConnect: true,
    enableOfflineQueue: false,
    connectionName: 'session-invalidations',
  });
  let next = 1;
  connection.on('reconnecting', () => {
    const masters = redis
      .nodes('master')
      .map((node) => ({ host: String(node.options.host), port: Number(node.options.port) }));
    const candidates = masters.length > 0 ? masters : seeds;
    Object.assign(connection.options, candidates[next++ % candidates.length]);
  });
  return connection;
}
