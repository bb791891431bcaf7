import { AppProcess } from '../support/app-process';
import { runDeploymentSettingsCommand } from '../support/rebuild-command';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

jest.setTimeout(180_000);

/** Starts an app expected to refuse; returns what it printed. */
async function refusedStart(
  app: 'api' | 'worker',
  name: string,
  env: Record<string, string>,
): Promise<string> {
  try {
    const started = await AppProcess.start(app, name, env);
    await started.stop();
  } catch (error) {
    return String((error as Error).message);
  }
  throw new Error(`${name} started, but should have refused`);
}

/**
 * The settings the api and the worker must share (partitions, absolute TTL, stream retention and
 * length) are stored with the deployment; a process configured otherwise refuses to start with
 * one line, and `deployment:settings --adopt` is the deliberate way to change them.
 */
describe('deployment settings shared by the api and the worker (real processes)', () => {
  const redis = newRedisClient();
  const prefixes: string[] = [];
  const running: AppProcess[] = [];

  afterAll(async () => {
    await Promise.all(running.map((app) => app.stop()));
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('the first process stores them; a worker with another absolute TTL refuses; --adopt changes them', async () => {
    const prefix = uniquePrefix('deploy-settings');
    prefixes.push(prefix);
    const base = { REDIS_URL: testRedisUrl(), SESSION_PREFIX: prefix, LOG_LEVEL: 'warn' };
    const withTtl = (seconds: number) => ({
      ...base,
      SESSION_ABSOLUTE_TTL_SECONDS: String(seconds),
    });

    const api = await AppProcess.start('api', 'settings-api', withTtl(7200));
    running.push(api);
    expect(await redis.hgetall(`${prefix}:deployment`)).toMatchObject({
      streamPartitions: '16',
      absoluteTtlSeconds: '7200',
      streamRetentionSeconds: '7200',
      streamMaxLength: '1000000',
    });

    // The worker's default (86400 s) would prune nothing the api writes but trim and drop epochs
    // on another schedule: refused, in one line naming the setting and both values.
    const output = await refusedStart('worker', 'settings-worker-86400', base);
    const line = output.split('\n').find((text) => text.includes('absoluteTtlSeconds = 7200'));
    expect(line).toMatch(
      /^The deployment under key prefix "t-deploy-settings-[0-9a-f]+" was created with absoluteTtlSeconds = 7200, but this process is configured with 86400\. .*deployment:settings -- --adopt/,
    );
    expect(output).not.toMatch(/^\s+at /m); // no stack trace
    expect(await redis.hget(`${prefix}:deployment`, 'absoluteTtlSeconds')).toBe('7200');

    const worker = await AppProcess.start('worker', 'settings-worker-7200', withTtl(7200));
    running.push(worker);

    // The command shows the difference, then adopts the new configuration deliberately.
    const shown = await runDeploymentSettingsCommand(withTtl(3600));
    expect(shown.code).toBe(1);
    expect(shown.reports[0]).toMatchObject({
      differing: ['absoluteTtlSeconds', 'streamRetentionSeconds'],
    });
    const adopted = await runDeploymentSettingsCommand(withTtl(3600), true);
    expect(adopted.code).toBe(0);
    expect(await redis.hgetall(`${prefix}:deployment`)).toMatchObject({
      streamPartitions: '16',
      absoluteTtlSeconds: '3600',
      streamRetentionSeconds: '3600',
    });
    expect((await runDeploymentSettingsCommand(withTtl(3600))).code).toBe(0);

    // Restarted with the old value, the api refuses; with the new one it starts.
    await api.stop();
    expect(await refusedStart('api', 'settings-api-old', withTtl(7200))).toMatch(
      /api failed to start: .*absoluteTtlSeconds = 3600, but this process is configured with 7200/,
    );
    running.push(await AppProcess.start('api', 'settings-api-new', withTtl(3600)));

    // The partition count does not change in place.
    const partitions = await runDeploymentSettingsCommand(
      { ...withTtl(3600), SESSION_STREAM_PARTITIONS: '32' },
      true,
    );
    expect(partitions.code).toBe(2);
    expect(partitions.output).toMatch(/streamPartitions cannot change in place/);
    expect(await redis.hget(`${prefix}:deployment`, 'streamPartitions')).toBe('16');
  });

  it('a deployment created by a release that stored only the partition count gets the new settings claimed', async () => {
    const prefix = uniquePrefix('deploy-legacy');
    prefixes.push(prefix);
    // What the previous release writes (test/upgrade/rolling-upgrade.test.ts runs it for real).
    await redis.hset(`${prefix}:deployment`, 'streamPartitions', '16');
    const worker = await AppProcess.start('worker', 'legacy-worker', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      SESSION_ABSOLUTE_TTL_SECONDS: '7200',
    });
    running.push(worker);
    expect(await redis.hgetall(`${prefix}:deployment`)).toEqual({
      streamPartitions: '16',
      format: '1',
      absoluteTtlSeconds: '7200',
      streamRetentionSeconds: '7200',
      streamMaxLength: '1000000',
    });
  });
});
