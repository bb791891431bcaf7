import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type ResolvedSessionOptions, SESSION_OPTIONS, SessionService } from '@app/session';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

/**
 * The README's configuration-from-the-environment example, pasted as is: the module it declares
 * takes the deployment's prefix, partitions and TTLs from the environment, and works.
 */
const ROOT = join(__dirname, '..', '..');
const GENERATED = join(__dirname, 'generated-readme-env-config.ts');

function readmeEnvExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Configuration from the environment'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('No ```ts block in the README configuration-from-env section');
  return match[1];
}

describe('The README configuration-from-the-environment example', () => {
  const prefix = uniquePrefix('readme-env');
  const saved = { ...process.env };

  afterAll(async () => {
    process.env = saved;
    rmSync(GENERATED, { force: true });
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('reads the shared variables as the worker does', async () => {
    Object.assign(process.env, {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: prefix,
      SESSION_STREAM_PARTITIONS: '8',
      SESSION_IDLE_TTL_SECONDS: '600',
    });
    delete process.env.REDIS_CLUSTER_NODES;
    writeFileSync(GENERATED, readmeEnvExample());
    const { ShopModule } = (await import(GENERATED)) as { ShopModule: Type };
    const moduleRef = await Test.createTestingModule({ imports: [ShopModule] }).compile();
    await moduleRef.init();
    const options = moduleRef.get<ResolvedSessionOptions>(SESSION_OPTIONS);
    expect(options).toMatchObject({ keyPrefix: prefix, streamPartitions: 8, idleTtlMs: 600_000 });
    expect(options.cookie.sameSite).toBe('strict');
    const created = await moduleRef.get(SessionService).create('ada');
    expect(created.sessionId).toMatch(/^\d-/);
    await moduleRef.close();
  });
});
