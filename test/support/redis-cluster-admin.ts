/**
 * Operator actions on a test cluster (RedisClusterProcess): read its topology, move a slot the way
 * `redis-cli --cluster reshard` does, find a slot's master and its synced replica, and fail over.
 */
import { Redis } from 'ioredis';
import type { RedisClusterProcess } from './redis-cluster-process';

export interface NodeInfo {
  id: string;
  port: number;
  /** A master that is not flagged as failed. */
  master: boolean;
  /** The id of its master, for a replica ('-' for a master). */
  masterId: string;
  slots: [number, number][];
}

/** Runs `use` on a plain connection to one node, closed afterwards. */
export async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** CLUSTER NODES as seen by the node on `port`. */
export async function clusterNodes(port: number): Promise<NodeInfo[]> {
  const text = String(await onNode(port, (r) => r.cluster('NODES')));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        master: flags.includes('master') && !flags.includes('fail'),
        masterId,
        slots: slots
          .filter((s) => /^\d/.test(s))
          .map((s) => s.split('-').map(Number) as [number, number])
          .map(([from, to]) => [from, to ?? from] as [number, number]),
      };
    });
}

const serves = (node: NodeInfo, slot: number) =>
  node.slots.some(([from, to]) => slot >= from && slot <= to);

/** The master serving `slot`, per the node on `viaPort`. */
export async function masterOf(viaPort: number, slot: number): Promise<NodeInfo> {
  const owner = (await clusterNodes(viaPort)).find((n) => n.master && serves(n, slot));
  if (!owner) throw new Error(`no master serves slot ${slot}`);
  return owner;
}

/**
 * Moves one slot (and its keys) to another master: SETSLOT IMPORTING / MIGRATING, MIGRATE the keys
 * in batches (with a pause between them, so live traffic meets the half-moved slot: ASK and
 * TRYAGAIN), then SETSLOT NODE on every master. The target is `toPort` or any other master.
 */
export async function moveSlot(
  cluster: RedisClusterProcess,
  slot: number,
  { toPort, batch = 100, pauseMs = 50 }: { toPort?: number; batch?: number; pauseMs?: number } = {},
): Promise<{ from: number; to: number; keys: number }> {
  const masters = (await clusterNodes(cluster.servers[0].port)).filter((n) => n.master);
  const source = masters.find((n) => serves(n, slot));
  if (!source) throw new Error(`no master serves slot ${slot}`);
  const target = masters.find((n) => n !== source && (toPort === undefined || n.port === toPort));
  if (!target) throw new Error(`no master to move slot ${slot} to`);
  await onNode(target.port, (r) => r.cluster('SETSLOT', slot, 'IMPORTING', source.id));
  let moved = 0;
  await onNode(source.port, async (r) => {
    await r.cluster('SETSLOT', slot, 'MIGRATING', target.id);
    for (;;) {
      const keys = await r.cluster('GETKEYSINSLOT', slot, batch);
      if (keys.length === 0) break;
      await r.call('MIGRATE', '127.0.0.1', target.port, '', 0, 5_000, 'KEYS', ...keys);
      moved += keys.length;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  for (const node of [target, source, ...masters.filter((n) => n !== source && n !== target)]) {
    await onNode(node.port, (r) => r.cluster('SETSLOT', slot, 'NODE', target.id));
  }
  return { from: source.port, to: target.port, keys: moved };
}

/** Replication offset a node reports (master_repl_offset, or slave_repl_offset on a replica). */
async function replicationOffset(port: number, field: string): Promise<number> {
  const info = await onNode(port, (r) => r.info('replication'));
  return Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? -1);
}

/**
 * The master of `slot` and a replica of it whose link is up, waiting for the replicas to attach
 * (they do so shortly after the cluster reports ok).
 */
export async function masterAndReplicaOf(
  cluster: RedisClusterProcess,
  slot: number,
  timeoutMs = 20_000,
): Promise<{ master: NodeInfo; replica: NodeInfo }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await clusterNodes(cluster.servers[0].port);
    const master = nodes.find((n) => n.master && serves(n, slot));
    const replica = nodes.find((n) => n.masterId === master?.id);
    if (master && replica) {
      const info = await onNode(replica.port, (r) => r.info('replication'));
      if (/master_link_status:up/.test(info)) return { master, replica };
    }
    if (Date.now() > deadline) throw new Error(`slot ${slot} has no synced replica`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the replica has received everything the master had written when called. */
export async function replicaCaughtUp(
  master: NodeInfo,
  replica: NodeInfo,
  timeoutMs = 5_000,
): Promise<void> {
  const target = await replicationOffset(master.port, 'master_repl_offset');
  const deadline = Date.now() + timeoutMs;
  while ((await replicationOffset(replica.port, 'slave_repl_offset')) < target) {
    if (Date.now() > deadline) throw new Error(`replica ${replica.port} did not catch up`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until every node that is up agrees that `port` serves `slot` (after a fail-over or a
 * move, nodes learn the new owner through the cluster bus at slightly different times).
 */
export async function waitForSlotOwner(
  cluster: RedisClusterProcess,
  slot: number,
  port: number,
  alive: (port: number) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(
      cluster.servers
        .filter((s) => alive(s.port))
        .map((s) =>
          masterOf(s.port, slot).then(
            (n) => n.port,
            () => -1,
          ),
        ),
    );
    if (views.every((owner) => owner === port)) return;
    if (Date.now() > deadline) throw new Error(`slot ${slot} not served by ${port} everywhere`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
