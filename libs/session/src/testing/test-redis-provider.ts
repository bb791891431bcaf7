import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { RedisServerProcess } from './redis-server-process';

export interface ProvidedRedis {
  url: string;
  kind: 'env' | 'testcontainers' | 'spawned';
  stop(): Promise<void>;
}

const DOCKER_SOCKET = '/var/run/docker.sock';

// A stale socket file is common (daemon stopped), so the socket must also answer a ping.
function dockerSocketAnswers(timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { socketPath: DOCKER_SOCKET, path: '/_ping', timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function dockerReachable(): Promise<boolean> {
  if (process.env.DOCKER_HOST) return true;
  return existsSync(DOCKER_SOCKET) && dockerSocketAnswers();
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * A Redis for tests: REDIS_URL if set, else a redis:7 container when a Docker engine is reachable
 * (testcontainers), else a redis-server spawned on a free port (it must be on the PATH).
 */
export async function provideTestRedis(): Promise<ProvidedRedis> {
  const provided = await choose();
  process.stderr.write(`[test-redis] using ${provided.kind} Redis at ${redact(provided.url)}\n`);
  return provided;
}

async function choose(): Promise<ProvidedRedis> {
  const envUrl = process.env.REDIS_URL;
  if (envUrl) return { url: envUrl, kind: 'env', stop: async () => undefined };

  if (await dockerReachable()) {
    // Lazy import: nothing Docker-related is loaded on machines without an engine.
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7').start();
    return {
      url: container.getConnectionUrl(),
      kind: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }

  const server = await RedisServerProcess.start();
  return { url: server.url, kind: 'spawned', stop: () => server.stop() };
}
