import { AppProcess } from '../support/app-process';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { testRedisUrl } from '../support/test-redis';
import {
  LIVE_REBUILD_SETTINGS,
  liveRebuildWorkerEnv,
  runLiveRebuildScenario,
} from './live-rebuild-scenario';

jest.setTimeout(240_000);

describe('worker:rebuild and --check while traffic flows (standalone Redis, real worker)', () => {
  let fx: SessionFixture;
  let worker: AppProcess | undefined;

  beforeAll(async () => {
    fx = await createSessionFixture('rebuild-live', {
      idleTtlSeconds: LIVE_REBUILD_SETTINGS.idleTtlSeconds,
      absoluteTtlSeconds: LIVE_REBUILD_SETTINGS.absoluteTtlSeconds,
      cache: { enabled: false },
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await fx.close();
  });

  it('repairs drift, keeps device lists, limits and expiry events, and finds 0 differences', async () => {
    const env = { REDIS_URL: testRedisUrl(), SESSION_PREFIX: fx.prefix };
    worker = await AppProcess.start('worker', 'rebuild-live-worker', {
      ...env,
      ...liveRebuildWorkerEnv(),
    });
    const summary = await runLiveRebuildScenario({
      service: fx.service,
      store: fx.store,
      env: { ...env, ...liveRebuildWorkerEnv() },
    });
    console.log(`live rebuild (standalone): ${JSON.stringify(summary)}`);
  });
});
