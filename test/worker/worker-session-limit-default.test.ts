import type { CreatedSession } from '@app/session';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { testRedisUrl } from '../support/test-redis';

jest.setTimeout(120_000);

describe('concurrent sessions per user with the default SESSION_MAX_PER_USER (worker process)', () => {
  let fx: SessionFixture;
  let worker: AppProcess;

  beforeAll(async () => {
    fx = await createSessionFixture('worker-limit-default');
    // No SESSION_MAX_PER_USER: the default applies.
    worker = await AppProcess.start('worker', 'worker-limit-default-1', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    });
  });
  afterAll(async () => {
    await worker.stop();
    await fx.close();
  });

  it('keeps at most 100 live sessions of one user, revoking the oldest', async () => {
    const created: CreatedSession[] = [];
    for (let i = 0; i < 105; i++) created.push(await fx.service.create('hoarder'));
    const liveCount = async () =>
      (await Promise.all(created.map((s) => fx.service.validate(s.token)))).filter(
        (s) => s !== null,
      ).length;
    expect(
      await eventually(liveCount, (n) => n === 100, { timeoutMs: 30_000, intervalMs: 100 }),
    ).toBe(100);
    // The newest is kept.
    expect(await fx.service.validate(created[104].token)).not.toBeNull();
  });
});
