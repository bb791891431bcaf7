import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { SessionConfigError, SessionModule, SessionService, SessionStore } from '@app/session';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

@Injectable()
class AppConfig {
  readonly redisUrl = testRedisUrl();
  readonly prefix = uniquePrefix('module-async');
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class AppConfigModule {}

describe('SessionModule configuration', () => {
  it('forRootAsync builds its options from injected providers', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRootAsync({
          imports: [AppConfigModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            redis: { url: config.redisUrl },
            keyPrefix: config.prefix,
            idleTtlSeconds: 120,
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(SessionService);
    const created = await service.create('alice');
    expect(created.expiresAt - created.createdAt).toBe(120_000);
    expect(service.keys.prefix).toBe(moduleRef.get(AppConfig).prefix);
    await moduleRef.close();
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, service.keys.prefix);
    await redis.quit();
  });

  it('fails at start-up with an error naming the bad option', async () => {
    const build = () =>
      Test.createTestingModule({
        imports: [
          SessionModule.forRootAsync({
            useFactory: () => ({ redis: { url: testRedisUrl() }, idleTtlSeconds: -1 }),
          }),
        ],
      }).compile();
    await expect(build()).rejects.toThrow(SessionConfigError);
    await expect(build()).rejects.toThrow(/"idleTtlSeconds"/);
    expect(() => SessionModule.forRoot({ redis: { url: 'http://nope' } })).toThrow(/"redis.url"/);
  });

  it('uses an app-owned client as is and leaves it open on shutdown', async () => {
    const client = new Redis(testRedisUrl());
    const prefix = uniquePrefix('module-client');
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ redis: { client }, keyPrefix: prefix })],
    }).compile();
    await moduleRef.init();
    expect(moduleRef.get(SessionStore).redis).toBe(client);
    const created = await moduleRef.get(SessionService).create('bob');
    expect(await moduleRef.get(SessionService).validate(created.token)).not.toBeNull();
    await moduleRef.close();
    expect(await client.ping()).toBe('PONG');
    await deleteKeysWithPrefix(client, prefix);
    await client.quit();
  });

  it('closes the client it created itself on shutdown', async () => {
    const prefix = uniquePrefix('module-owned');
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ redis: { url: testRedisUrl() }, keyPrefix: prefix })],
    }).compile();
    await moduleRef.init();
    const owned = moduleRef.get(SessionStore).redis as Redis;
    expect(owned.status).toBe('ready');
    const ended = new Promise<string>((resolve) => owned.once('end', () => resolve(owned.status)));
    await moduleRef.close();
    expect(await ended).toBe('end');
  });
});
