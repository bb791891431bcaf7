import { ensureAppsBuilt } from './built-apps';
import { RedisClusterProcess } from './redis-cluster-process';

// globalSetup and globalTeardown run in the same (parent) process, so globalThis carries the handle.
const CLUSTER_KEY = Symbol.for('test-support.redis-cluster');
type GlobalWithCluster = typeof globalThis & { [CLUSTER_KEY]?: RedisClusterProcess };

/** The `cluster` jest project: a real three-master cluster for the run. */
export default async function clusterGlobalSetup(): Promise<void> {
  ensureAppsBuilt();
  const cluster = await RedisClusterProcess.start({ masters: 3 });
  (globalThis as GlobalWithCluster)[CLUSTER_KEY] = cluster;
  process.stderr.write(
    `[test-redis] using a local 3-master Redis Cluster at ${cluster.nodeList}\n`,
  );
  process.env.TEST_REDIS_CLUSTER_NODES = cluster.nodeList;
}

export async function clusterGlobalTeardown(): Promise<void> {
  await (globalThis as GlobalWithCluster)[CLUSTER_KEY]?.stop();
}
