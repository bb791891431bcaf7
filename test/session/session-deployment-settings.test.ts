import { Test } from '@nestjs/testing';
import type { TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  DeploymentMismatchError,
  SessionModule,
  type SessionModuleOptions,
  SessionService,
  SessionStoreUnavailableError,
} from '@app/session';
import { eventually } from '../support/eventually';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisConfig,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

async function startModule(options: SessionModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [SessionModule.forRoot(options)],
  }).compile();
  try {
    await moduleRef.init();
  } catch (error) {
    // Nest's close() awaits (and re-throws) the failed init first: forget it, then shut down
    // what did start (the client and the invalidation subscriber), as a process exit would.
    (moduleRef as unknown as { initializationPromise?: Promise<void> }).initializationPromise =
      undefined;
    await moduleRef.close();
    throw error;
  }
  return moduleRef;
}

describe('Deployment settings: every process agrees on the partition count', () => {
  const redis = newRedisClient();
  const prefixes: string[] = [];

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('refuses to start an instance configured with another partition count', async () => {
    const keyPrefix = uniquePrefix('deploy');
    prefixes.push(keyPrefix);
    const first = await startModule({ redis: testRedisConfig(), keyPrefix, streamPartitions: 16 });
    const created = await first.get(SessionService).create('alice');

    const second = startModule({ redis: testRedisConfig(), keyPrefix, streamPartitions: 32 });
    await expect(second).rejects.toThrow(DeploymentMismatchError);
    await expect(
      startModule({ redis: testRedisConfig(), keyPrefix, streamPartitions: 32 }),
    ).rejects.toThrow(/streamPartitions = 16, but this process is configured with 32/);

    // The same count joins the deployment and sees the same sessions.
    const third = await startModule({ redis: testRedisConfig(), keyPrefix, streamPartitions: 16 });
    expect(await third.get(SessionService).validate(created.token)).not.toBeNull();
    await third.get(SessionService).revokeAllForUser('alice');
    expect(await first.get(SessionService).validate(created.token)).toBeNull();
    await third.close();
    await first.close();
  });

  it('a deployment under another key prefix may use another count', async () => {
    const a = uniquePrefix('deploy-a');
    const b = uniquePrefix('deploy-b');
    prefixes.push(a, b);
    const first = await startModule({
      redis: testRedisConfig(),
      keyPrefix: a,
      streamPartitions: 8,
    });
    const second = await startModule({
      redis: testRedisConfig(),
      keyPrefix: b,
      streamPartitions: 4,
    });
    expect(await second.get(SessionService).create('bob')).toHaveProperty('token');
    await second.close();
    await first.close();
  });

  it('found only after start-up (Redis not ready then), every call is refused with the reason', async () => {
    const keyPrefix = uniquePrefix('deploy-late');
    prefixes.push(keyPrefix);
    // The app's own client, not connected yet: the app starts without the check (it cannot run).
    const client = new Redis(testRedisUrl(), { lazyConnect: true });
    const moduleRef = await startModule({ redis: { client }, keyPrefix, streamPartitions: 32 });
    await redis.hset(`${keyPrefix}:deployment`, 'streamPartitions', '16');
    const service = moduleRef.get(SessionService);
    await client.connect();
    // Until the settings are checked nothing is written (503), then the mismatch is the answer.
    await expect(service.create('carol')).rejects.toThrow(SessionStoreUnavailableError);

    const refused = await eventually(
      () =>
        service.create('carol').then(
          () => null,
          (error: unknown) => error,
        ),
      (outcome) => outcome instanceof DeploymentMismatchError,
    );
    expect((refused as Error).message).toMatch(/configured with 32/);
    expect(await redis.keys(`${keyPrefix}:*:session:*`)).toEqual([]);
    await moduleRef.close();
    await client.quit();
  });
});
