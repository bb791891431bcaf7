import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** URL of the Redis provided by test/support/global-setup.ts. */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) {
    throw new Error(
      'TEST_REDIS_URL is not set: run integration tests through the jest "integration" project ' +
        '(its globalSetup test/support/global-setup.ts provides Redis).',
    );
  }
  return url;
}

const SAFE = /^[A-Za-z0-9_.-]+$/;
const issued = new Set<string>();

/** Key prefix like `t-<label>-<8 hex>`; unique within the process, random across workers. */
export function uniquePrefix(label: string): string {
  if (!SAFE.test(label)) {
    throw new Error(`uniquePrefix label must match ${String(SAFE)}, got ${JSON.stringify(label)}`);
  }
  let prefix: string;
  do {
    prefix = `t-${label}-${randomBytes(4).toString('hex')}`;
  } while (issued.has(prefix));
  issued.add(prefix);
  return prefix;
}

/** Seed nodes when the suite runs against a Redis Cluster (jest project `cluster`), else null. */
export function testClusterNodes(): { host: string; port: number }[] | null {
  // Every project's globalSetup runs in the one parent process, so the env var reaches every
  // project's workers: only the `cluster` project (jest `globals`) may use it.
  const onCluster =
    (globalThis as { __TEST_REDIS_TARGET__?: string }).__TEST_REDIS_TARGET__ === 'cluster';
  const list = process.env.TEST_REDIS_CLUSTER_NODES;
  if (!onCluster || !list) return null;
  return list.split(',').map((node) => {
    const [host, port] = node.split(':');
    return { host, port: Number(port) };
  });
}

/** The library's `redis` option for the test Redis: a cluster when the suite runs on one. */
export function testRedisConfig():
  { url: string } | { cluster: { nodes: { host: string; port: number }[] } } {
  const nodes = testClusterNodes();
  return nodes ? { cluster: { nodes } } : { url: testRedisUrl() };
}

export { deleteKeysWithPrefix } from '../../libs/session/src/testing';

/**
 * An ioredis client on the test Redis (a Cluster client when the suite runs on a cluster; its
 * API is the same for single-key commands); callers must quit() it.
 */
export function newRedisClient(options: RedisOptions = {}): Redis {
  const nodes = testClusterNodes();
  if (nodes) return new Cluster(nodes, { redisOptions: options }) as unknown as Redis;
  return new Redis(testRedisUrl(), options);
}
