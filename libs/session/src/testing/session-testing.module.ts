import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SessionModule } from '../session.module';
import type { SessionModuleOptions } from '../session-options';
import { deleteKeysWithPrefix } from './delete-keys';
import { provideTestRedis } from './test-redis-provider';

export interface SessionTestingOptions extends Partial<Omit<SessionModuleOptions, 'redis'>> {
  /** Redis to use; default REDIS_URL, else testcontainers, else a spawned redis-server. */
  redisUrl?: string;
}

/** Where a testing module keeps its sessions: the Redis URL and its own key prefix. */
export interface SessionTestingTarget {
  redisUrl: string;
  keyPrefix: string;
}

/** Inject to learn the Redis URL and key prefix a testing module uses (e.g. to inspect keys). */
export const SESSION_TESTING_TARGET = Symbol('SESSION_TESTING_TARGET');
const TESTING_TARGET = SESSION_TESTING_TARGET;

/** One provided Redis per test process, shared by every testing module of it. */
let sharedRedis: Promise<string> | undefined;
function testRedisUrl(): Promise<string> {
  // A spawned server is killed when the process exits; a container by testcontainers' reaper.
  sharedRedis ??= provideTestRedis().then((provided) => provided.url);
  return sharedRedis;
}

/** Deletes the module's keys on close, so a suite leaves nothing behind on a shared Redis. */
@Injectable()
class SessionTestingCleanup implements OnApplicationShutdown {
  constructor(@Inject(TESTING_TARGET) private readonly target: SessionTestingTarget) {}

  async onApplicationShutdown(): Promise<void> {
    const redis = new Redis(this.target.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      await deleteKeysWithPrefix(redis, this.target.keyPrefix);
    } catch {
      // Redis already gone: nothing left to clean.
    } finally {
      redis.disconnect();
    }
  }
}

@Module({})
class SessionTestingTargetModule {
  static register(options: SessionTestingOptions): DynamicModule {
    return {
      module: SessionTestingTargetModule,
      providers: [
        {
          provide: TESTING_TARGET,
          useFactory: async (): Promise<SessionTestingTarget> => ({
            redisUrl: options.redisUrl ?? (await testRedisUrl()),
            keyPrefix: options.keyPrefix ?? `test-${randomBytes(6).toString('hex')}`,
          }),
        },
        SessionTestingCleanup,
      ],
      exports: [TESTING_TARGET],
    };
  }
}

/**
 * The real library on a throwaway Redis for tests: `SessionTestingModule.forRoot()` in place of
 * `SessionModule.forRoot(...)`. Every module gets its own key prefix, deleted when the app
 * closes; the Redis is REDIS_URL, else a testcontainers Redis, else a spawned redis-server.
 */
@Module({})
export class SessionTestingModule {
  static forRoot(options: SessionTestingOptions = {}): DynamicModule {
    const libraryOptions: Partial<SessionModuleOptions> = { ...options };
    delete (libraryOptions as SessionTestingOptions).redisUrl;
    const target = SessionTestingTargetModule.register(options);
    return {
      module: SessionTestingModule,
      imports: [
        target,
        SessionModule.forRootAsync({
          imports: [target],
          inject: [TESTING_TARGET],
          useFactory: (found: SessionTestingTarget) => ({
            ...libraryOptions,
            // Tests run over plain http: the Secure cookie flag (and so the __Host- prefix) off.
            cookie: { secure: false, ...libraryOptions.cookie },
            redis: { url: found.redisUrl },
            keyPrefix: found.keyPrefix,
          }),
        }),
      ],
      exports: [target],
    };
  }
}
