import { AppProcess } from '../support/app-process';
import { RedisServerProcess } from '../support/redis-server-process';
import { uniquePrefix } from '../support/test-redis';

jest.setTimeout(120_000);

/**
 * Every process stops on SIGTERM within its shutdown timeout whatever Redis is doing: up, gone
 * (killed), or frozen (SIGSTOP: connections open, nothing answers). Real processes, a private
 * Redis each; prints how long each took. The bound asserted is the configured timeout plus a
 * margin for process start-up noise: a hang (the bug) never ends.
 */
const SHUTDOWN_TIMEOUT_MS = 3000;
const MARGIN_MS = 2000;

type RedisState = 'up' | 'down' | 'frozen';

async function apply(state: RedisState, redis: RedisServerProcess): Promise<void> {
  if (state === 'down') await redis.kill();
  if (state === 'frozen') redis.freeze();
}

describe.each(['api', 'worker'] as const)('%s on SIGTERM', (app) => {
  it.each(['up', 'down', 'frozen'] as RedisState[])(
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
