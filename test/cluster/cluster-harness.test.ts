import { Cluster } from 'ioredis';
import { RedisClusterProcess } from '../support/redis-cluster-process';

jest.setTimeout(60_000);

describe('RedisClusterProcess', () => {
  it('starts three masters that serve every slot, and stops them', async () => {
    const cluster = await RedisClusterProcess.start({ masters: 3 });
    const client = new Cluster(cluster.nodes);
    try {
      for (let i = 0; i < 20; i++) await client.set(`key-${i}`, String(i));
      expect(await client.get('key-7')).toBe('7');
      expect(client.nodes('master')).toHaveLength(3);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });
});
