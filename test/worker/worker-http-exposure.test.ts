import { networkInterfaces } from 'node:os';
import { AppProcess } from '../support/app-process';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

jest.setTimeout(120_000);

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

describe('worker health and metrics exposure (worker process)', () => {
  const prefix = uniquePrefix('worker-exposure');
  let worker: AppProcess;

  beforeAll(async () => {
    worker = await AppProcess.start('worker', 'worker-exposure-1', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: prefix,
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    });
  });
  afterAll(async () => {
    await worker.stop();
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('listens on loopback only by default', async () => {
    expect(await reachable(`http://127.0.0.1:${worker.port}/health`)).toBe(true);
    const address = externalAddress();
    console.log(`worker /health from ${address ?? '(no external address)'}: refused expected`);
    if (address) expect(await reachable(`http://${address}:${worker.port}/health`)).toBe(false);
    expect(worker.output).toContain(`health on 127.0.0.1:${worker.port}`);
  });

  it('answers /health with statuses and counts, no error texts', async () => {
    const response = await fetch(`http://127.0.0.1:${worker.port}/health`);
    const body = (await response.json()) as { status: string; details: Record<string, unknown> };
    expect(body.status).toBe('ok');
    expect(body.details.redis).toEqual({ status: 'up' });
    expect(body.details.consumer).toEqual({ status: 'up' });
    expect(JSON.stringify(body)).not.toMatch(/message|error|ECONN|redis:\/\//i);
  });
});
