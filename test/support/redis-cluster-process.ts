import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServerProcess } from './redis-server-process';

const run = promisify(execFile);

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Ports for cluster nodes. Each node also listens on its port + 10000 (the cluster bus), so a
 * port from the ephemeral range (often above 55535) would put the bus past 65535: pick ports in
 * 20000-29999 whose bus port is free too.
 */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (!ports.includes(port) && (await isFree(port)) && (await isFree(port + 10_000)))
      ports.push(port);
  }
  return ports;
}

export interface ClusterNode {
  host: string;
  port: number;
}

/**
 * A real local Redis Cluster for tests: N masters (and replicas) started with
 * `redis-server --cluster-enabled yes` on free ports, joined with `redis-cli --cluster create`,
 * stopped afterwards.
 */
export class RedisClusterProcess {
  private constructor(readonly servers: RedisServerProcess[]) {}

  static async start({
    masters = 3,
    replicas = 0,
  }: { masters?: number; replicas?: number } = {}): Promise<RedisClusterProcess> {
    // A loaded machine can make `--cluster create` fail: retry with fresh servers once.
    for (let attempt = 1; ; attempt++) {
      try {
        return await RedisClusterProcess.startOnce(masters, replicas);
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
  }

  private static async startOnce(masters: number, replicas: number): Promise<RedisClusterProcess> {
    const id = randomBytes(4).toString('hex');
    const ports = await clusterPorts(masters * (1 + replicas));
    const servers = await Promise.all(
      ports.map((port, i) =>
        RedisServerProcess.start({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${id}-${i}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      ),
    );
    const cluster = new RedisClusterProcess(servers);
    try {
      const args = [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ];
      await run('redis-cli', args).catch((error: Error & { stdout?: string; stderr?: string }) => {
        // redis-cli reports its errors on stdout.
        throw new Error(
          `redis-cli ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`,
        );
      });
      await cluster.waitUntilOk();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get nodes(): ClusterNode[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  /** `REDIS_CLUSTER_NODES` form: host:port,host:port,... */
  get nodeList(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  async waitUntilOk(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const server of this.servers) {
      const client = new Redis(server.port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      try {
        await client.connect();
        for (;;) {
          const info = String(await client.cluster('INFO'));
          if (info.includes('cluster_state:ok')) break;
          if (Date.now() > deadline) throw new Error(`cluster not ok on ${server.port}: ${info}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        client.disconnect();
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
