import { Cluster } from 'ioredis';
import { newRedisClient, testClusterNodes } from '../support/test-redis';

/** The `cluster` project really runs on the cluster; the `integration` project really does not. */
describe('test target', () => {
  it('matches the jest project', async () => {
    const onCluster =
      (globalThis as { __TEST_REDIS_TARGET__?: string }).__TEST_REDIS_TARGET__ === 'cluster';
    const client = newRedisClient();
    try {
      expect(client instanceof Cluster).toBe(onCluster);
      expect(testClusterNodes() !== null).toBe(onCluster);
      expect(await client.ping()).toBe('PONG');
      if (onCluster) expect((client as unknown as Cluster).nodes('master')).toHaveLength(3);
    } finally {
      client.disconnect();
    }
  });
});
