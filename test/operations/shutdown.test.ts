import { Redis } from 'ioredis';
import { AppProcess } from '../support/app-process';
import { RedisServerProcess } from '../support/redis-server-process';
import { uniquePrefix } from '../support/test-redis';

jest.setTimeout(120_000);

/**
 * Every process stops on SIGTERM within its shutdown timeout whatever Redis is doing: up, gone
 * (killed), frozen (SIGSTOP: connections open, nothing answers), or out of memory (maxmemory
 * reached with noeviction: every write that may grow memory is refused with OOM). Real processes, a private
 * Redis each; prints how long each took. The bound asserted is the configured timeout plus a
 * margin for process start-up noise: a hang (the bug) never ends.
 */
const SHUTDOWN_TIMEOUT_MS = 3000;
const MARGIN_MS = 2000;

type RedisState = 'up' | 'down' | 'frozen' | 'oom';

/** Fills Redis up to a 1 MB limit over what it holds, then lowers the limit below its use. */
async function exhaustMemory(redis: RedisServerProcess): Promise<void> {
  const admin = new Redis(redis.url);
  try {
    const usedMemory = async () =>
      Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', String((await usedMemory()) + 1024 * 1024));
    const filler = 'x'.repeat(64 * 1024);
    for (let i = 0; ; i++) {
      try {
        await admin.set(`fill:${i}`, filler);
      } catch (error) {
        expect((error as Error).message).toMatch(/^OOM/);
        break;
      }
    }
    await admin.config('SET', 'maxmemory', String((await usedMemory()) - 512 * 1024));
    await expect(admin.set('probe', 'x')).rejects.toThrow(/^OOM/);
  } finally {
    admin.disconnect();
  }
}

async function apply(state: RedisState, redis: RedisServerProcess): Promise<void> {
  if (state === 'down') await redis.kill();
  if (state === 'frozen') redis.freeze();
  if (state === 'oom') await exhaustMemory(redis);
}

describe.each(['api', 'worker'] as const)('%s on SIGTERM', (app) => {
  it.each(['up', 'down', 'frozen', 'oom'] as RedisState[])(
    'exits in time with Redis %s',
    async (state) => {
      const redis = await RedisServerProcess.start();
      let proc: AppProcess | undefined;
      try {
        proc = await AppProcess.start(app, `shutdown-${app}-${state}`, {
          REDIS_URL: redis.url,
          SESSION_PREFIX: uniquePrefix(`shutdown-${app}`),
          WORKER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
          SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        });
        await apply(state, redis);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const started = Date.now();
        const code = await proc.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
        const tookMs = Date.now() - started;
        const how = code === null ? `signal ${proc.exitSignal}` : `code ${code}`;
        console.log(`${app} with Redis ${state}: SIGTERM → exited (${how}) in ${tookMs} ms`);
        // Exited on its own (SIGTERM re-raised after a clean stop, or code 1 from the deadline),
        // not killed by the test after the configured bound plus the margin.
        expect({ app, state, killedByTest: proc.exitSignal === 'SIGKILL' }).toEqual({
          app,
          state,
          killedByTest: false,
        });
      } finally {
        if (state === 'frozen') redis.thaw();
        await proc?.stop('SIGKILL');
        await redis.stop();
      }
    },
  );
});
