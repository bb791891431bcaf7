/**
 * A worker that stops making progress with events waiting must not say ok (real process on a
 * private redis-server). Redis is made to stall every write (`CLIENT PAUSE … WRITE`: the
 * projection scripts, acknowledgements, lease renewals wait; reads and PING answer) while the
 * worker holds a backlog; /health answers 503 with `progress: stalled` once nothing settled for
 * WORKER_PROGRESS_TIMEOUT_MS, and 200 again once writes flow and the backlog is applied.
 */
import { Redis } from 'ioredis';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { RedisServerProcess } from '../support/redis-server-process';
import { groupBacklog } from '../worker/group-backlog';

jest.setTimeout(120_000);

interface Health {
  status: string;
  details: { progress: { status: string; secondsWithoutProgress: number } };
}

describe('worker health reflects progress (real process)', () => {
  let server: RedisServerProcess;
  let fx: SessionFixture;
  let worker: AppProcess | undefined;
  let admin: Redis | undefined;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    // A busy machine must not turn the burst of logins into timeouts.
    fx = await createSessionFixture('worker-stall', {
      redisUrl: server.url,
      commandTimeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    await admin?.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    admin?.disconnect();
    await worker?.stop();
    await fx?.close();
    await server?.stop();
  });

  const health = async (): Promise<{ code: number; body: Health }> => {
    const response = await fetch(`http://127.0.0.1:${worker!.port}/health`);
    return { code: response.status, body: (await response.json()) as Health };
  };

  it('answers 503 (stalled) while events wait and none settles, 200 once they flow again', async () => {
    worker = await AppProcess.start('worker', 'stall-w1', {
      REDIS_URL: server.url,
      SESSION_PREFIX: fx.prefix,
      WORKER_CONCURRENCY: '1',
      WORKER_PROGRESS_TIMEOUT_MS: '2000',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
      LOG_LEVEL: 'warn',
    });
    expect((await health()).body.details.progress.status).toBe('up');
    admin = new Redis(server.url);
    // A burst the worker (one event at a time) is still applying when writes stop.
    for (let chunk = 0; chunk < 8; chunk++)
      await Promise.all(
        Array.from({ length: 250 }, (_, i) => fx.service.create(`stall-${(chunk + i) % 50}`)),
      );
    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    const backlog = await groupBacklog(fx);
    console.log(`stall: backlog when writes stopped ${JSON.stringify(backlog)}`);
    expect(backlog.pending + backlog.lag).toBeGreaterThan(0);

    // A 503 may first come from the paused Redis (its PING times out): wait for the stall itself.
    const stalled = await eventually(
      health,
      (h) => h.code === 503 && h.body.details.progress.status === 'stalled',
      { timeoutMs: 30_000 },
    );
    expect(stalled.body.status).toBe('error');
    expect(stalled.body.details.progress.status).toBe('stalled');
    expect(stalled.body.details.progress.secondsWithoutProgress).toBeGreaterThanOrEqual(2);

    await admin.call('CLIENT', 'UNPAUSE');
    await eventually(
      () => groupBacklog(fx),
      (b) => b.pending === 0 && b.lag === 0,
      { timeoutMs: 60_000 },
    );
    const recovered = await eventually(health, (h) => h.code === 200, { timeoutMs: 10_000 });
    expect(recovered.body.details.progress.status).toBe('up');
  });
});
